//! `POST /v1/devices/{device_id}/deposits`: a signed deposit event from a smart device.
//!
//! Order of checks (every refusal before the transaction writes nothing):
//! 1. the device exists (401 `device_unknown`);
//! 2. `X-Wufei-Timestamp` is present (401 `timestamp_invalid`) and `X-Wufei-Signature` is
//!    present (401 `signature_missing`) and is the hex HMAC-SHA256 of `timestamp + "." +
//!    raw body` under the device's secret, compared in constant time, over the raw bytes
//!    before any parsing (401 `signature_invalid`);
//! 3. the device is active (401 `device_inactive`);
//! 4. the timestamp is an integer within `device_clock_skew_secs` of the server's clock,
//!    either way (401 `timestamp_invalid` / `timestamp_stale`);
//! 5. the body parses and its `event_id` is valid; an event id this device already posted
//!    answers the stored first answer and credits nothing (a retry must still be signed
//!    afresh: the signature checks come first);
//! 6. weight, category (active, weighed in kg, accepted by the device's kind) and the
//!    resident's QR token (422 `qr_token_expired` / `qr_token_invalid`).
//!
//! Then ONE transaction: the `device_events` row is inserted first, so a concurrent
//! duplicate loses on the unique (device, event id) key and answers the winner's stored
//! result; the resident's daily total for the category is raised by a conditional update up
//! to the category's `device_daily_cap`; points are priced at the rate in force now; the
//! ledger transaction `device:<device>:<event>` credits them from the device's district
//! budget; a recycling-ledger line, `last_seen_at`, the stored answer and the resident's
//! notification complete it.
//!
//! Points are priced on the day's running total, `price(total after) − price(total before)`,
//! so the whole points a resident earns in a day are those of the day's total weight: many
//! small deposits of kitchen waste (2 points/kg) are not each rounded down to nothing.

use chrono::Utc;
use hmac::{Hmac, Mac};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Set, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use super::{KITCHEN_WASTE, Kind};
use crate::{
    auth::{Role, TokenKeys},
    entities::{category, device, device_daily_total, device_event, recycling_record, user},
    error::{Error, Result},
    ledger::{self, Credit, NewTransaction, TxKind},
    points::settlement::price,
    validate::Check,
};

/// Heaviest single deposit: 100 kg.
pub const MAX_WEIGHT_G: i64 = 100_000;
/// Longest event id.
pub const MAX_EVENT_ID: usize = 64;

/// A deposit event's body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepositInput {
    /// The device's own id for this event, unique per device: 1–64 printable ASCII
    /// characters without spaces. A repeat answers the first result and credits nothing.
    pub event_id: String,
    /// The QR token the resident showed (`GET /v1/points/qr-token`).
    pub resident_token: String,
    /// Category code (`paper`, `plastic`, `kitchen_waste` …).
    pub category_code: String,
    /// Weight in grams, 1 to 100000.
    pub weight_g: i64,
}

/// The answer to a deposit (the device's screen is public: no balance).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DepositReceipt {
    /// The event id.
    pub event_id: String,
    /// Points credited.
    pub points: i64,
    /// Grams credited (less than the weight when the daily cap was reached).
    pub credited_weight_g: i64,
    /// Whether the resident's daily cap for the category cut the credit.
    pub capped: bool,
}

/// The signed request as it arrived.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// `X-Wufei-Timestamp`.
    pub timestamp: Option<&'a str>,
    /// `X-Wufei-Signature`.
    pub signature: Option<&'a str>,
    /// The raw body.
    pub body: &'a [u8],
}

/// What the deposit endpoint answers: the receipt as stored JSON, and whether it is the
/// stored answer of an earlier request.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The JSON body.
    pub body: String,
    /// True when this event id had been posted before.
    pub replayed: bool,
}

/// What a deposit needs from the platform.
#[derive(Debug, Clone, Copy)]
pub struct DepositContext<'a> {
    /// The database.
    pub db: &'a DatabaseConnection,
    /// Token keys (QR tokens).
    pub keys: &'a TokenKeys,
    /// The keys device secrets are sealed with.
    pub device_keys: &'a super::DeviceKeys,
    /// Ledger rules.
    pub rules: &'a ledger::Rules,
    /// Allowed clock difference in seconds.
    pub clock_skew_secs: u32,
}

fn unauthenticated(code: &'static str, message: &str) -> Error {
    Error::unauthenticated(code, message)
}

/// The hex HMAC-SHA256 of `timestamp + "." + body` under `secret` (what a device sends).
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> Result<String> {
    Ok(hex::encode(
        mac(secret, timestamp, body)?.finalize().into_bytes(),
    ))
}

fn mac(secret: &str, timestamp: &str, body: &[u8]) -> Result<Hmac<Sha256>> {
    // HMAC takes keys of any length; this cannot fail.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .map_err(|e| Error::Internal(anyhow::anyhow!("hmac key: {e}")))?;
    m.update(timestamp.as_bytes());
    m.update(b".");
    m.update(body);
    Ok(m)
}

/// Checks the signature in constant time.
fn verify_signature(secret: &str, timestamp: &str, signature: &str, body: &[u8]) -> Result<()> {
    let bad = || unauthenticated("signature_invalid", "the signature does not match");
    let given = hex::decode(signature.trim()).map_err(|_| bad())?;
    mac(secret, timestamp, body)?
        .verify_slice(&given)
        .map_err(|_| bad())
}

/// Whether `id` is a valid event id.
pub fn valid_event_id(id: &str) -> bool {
    (1..=MAX_EVENT_ID).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

/// The ledger (and recycling-ledger) source key of a device event.
pub fn source_key(device_id: Uuid, event_id: &str) -> String {
    format!("device:{device_id}:{event_id}")
}

/// Handles one deposit (see the module doc).
#[tracing::instrument(skip(cx, req), fields(device_id = %device_id))]
pub async fn deposit(
    cx: DepositContext<'_>,
    device_id: &str,
    req: SignedRequest<'_>,
) -> Result<Answer> {
    let unknown = || unauthenticated("device_unknown", "no such device");
    let id: Uuid = device_id.parse().map_err(|_| unknown())?;
    let dev = device::Entity::find_by_id(id)
        .one(cx.db)
        .await?
        .ok_or_else(unknown)?;
    let ts_raw = req.timestamp.ok_or_else(|| {
        unauthenticated("timestamp_invalid", "send X-Wufei-Timestamp (unix seconds)")
    })?;
    let signature = req.signature.ok_or_else(|| {
        unauthenticated(
            "signature_missing",
            "send X-Wufei-Signature: hex HMAC-SHA256 of timestamp.body",
        )
    })?;
    let secret = cx.device_keys.open(dev.id, &dev.secret)?.secret;
    verify_signature(&secret, ts_raw, signature, req.body)?;
    if !dev.active {
        return Err(unauthenticated(
            "device_inactive",
            "this device has been deactivated",
        ));
    }
    let ts: i64 = ts_raw.trim().parse().map_err(|_| {
        unauthenticated(
            "timestamp_invalid",
            "X-Wufei-Timestamp must be unix seconds",
        )
    })?;
    let now = Utc::now();
    if (now.timestamp() - ts).abs() > i64::from(cx.clock_skew_secs) {
        return Err(unauthenticated(
            "timestamp_stale",
            "X-Wufei-Timestamp is too far from the server's clock",
        ));
    }

    let input: DepositInput = serde_json::from_slice(req.body).map_err(|e| {
        if e.is_data() {
            Error::Unprocessable {
                code: "invalid_body",
                message: format!("the JSON body does not have the expected shape: {e}"),
            }
        } else {
            Error::BadRequest {
                code: "malformed_json",
                message: format!("the body is not valid JSON: {e}"),
            }
        }
    })?;
    if !valid_event_id(&input.event_id) {
        return Err(Error::field(
            "event_id",
            "invalid",
            "1 to 64 printable ASCII characters without spaces",
        ));
    }
    if let Some(first) = stored(cx.db, dev.id, &input.event_id).await? {
        return Ok(first);
    }

    let mut check = Check::new();
    check.ensure(
        (1..=MAX_WEIGHT_G).contains(&input.weight_g),
        "weight_g",
        "out_of_range",
        format!("must be between 1 and {MAX_WEIGHT_G}"),
    );
    let cat = category::Entity::find()
        .filter(category::Column::Code.eq(&input.category_code))
        .one(cx.db)
        .await?
        .filter(|c| c.active);
    check.ensure(
        cat.is_some(),
        "category_code",
        "unknown",
        "no active category has this code",
    );
    check.finish()?;
    let Some(cat) = cat else {
        return Err(Error::NotFound { what: "category" });
    };
    let accepted = if dev.kind == Kind::KitchenWasteScale {
        cat.code == KITCHEN_WASTE
    } else {
        cat.code != KITCHEN_WASTE
    };
    if !accepted || cat.unit != category::Unit::Kg {
        return Err(Error::Unprocessable {
            code: "category_not_accepted",
            message: format!(
                "a {} does not take {} (kitchen-waste scales take kitchen_waste only, \
                 recycling bins any other category weighed in kg)",
                dev.kind.as_str(),
                cat.code
            ),
        });
    }
    let resident_id = cx.keys.verify_qr(&input.resident_token)?;
    user::Entity::find_by_id(resident_id)
        .one(cx.db)
        .await?
        .filter(|u| u.role == Role::Resident && u.status == user::Status::Active)
        .ok_or(Error::Unprocessable {
            code: "qr_token_invalid",
            message: "the QR token does not name an active resident".into(),
        })?;

    match credit(cx, &dev, &cat, resident_id, &input).await {
        Ok(body) => Ok(Answer {
            body,
            replayed: false,
        }),
        // A concurrent duplicate committed the event first: answer its result.
        Err(e) if e.is_unique_violation() => stored(cx.db, dev.id, &input.event_id)
            .await?
            .ok_or_else(|| {
                Error::conflict(
                    "deposit_in_progress",
                    "this event is being recorded; retry shortly",
                )
            }),
        Err(e) => Err(e),
    }
}

/// The stored answer of an event this device already posted.
async fn stored(
    db: &impl ConnectionTrait,
    device_id: Uuid,
    event_id: &str,
) -> Result<Option<Answer>> {
    Ok(device_event::Entity::find()
        .filter(device_event::Column::DeviceId.eq(device_id))
        .filter(device_event::Column::EventId.eq(event_id))
        .one(db)
        .await?
        .filter(|e| !e.response.is_empty())
        .map(|e| Answer {
            body: e.response,
            replayed: true,
        }))
}

/// The transaction of a new deposit; returns the answer's JSON.
async fn credit(
    cx: DepositContext<'_>,
    dev: &device::Model,
    cat: &category::Model,
    resident_id: Uuid,
    input: &DepositInput,
) -> Result<String> {
    let now = Utc::now();
    let local_date = crate::slots::local_today(now)
        .format("%Y-%m-%d")
        .to_string();
    let txn = cx.db.begin().await?;
    // First, so a concurrent duplicate waits here and then fails on the unique key.
    let event = device_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        device_id: Set(dev.id),
        event_id: Set(input.event_id.clone()),
        user_id: Set(resident_id),
        category_id: Set(cat.id),
        weight_g: Set(input.weight_g),
        credited_g: Set(0),
        points: Set(0),
        transaction_id: Set(None),
        response: Set(String::new()),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;

    let (before, credited) =
        raise_daily_total(&txn, resident_id, cat, &local_date, input.weight_g).await?;
    let per_unit = crate::catalog::rate_at(&txn, cat.id, now)
        .await?
        .map_or(0, |r| i64::from(r.points_per_unit));
    let points =
        price(cat.unit, before + credited, 0, per_unit) - price(cat.unit, before, 0, per_unit);
    let capped = credited < input.weight_g;
    let key = source_key(dev.id, &input.event_id);
    let posted = ledger::post_credits(
        &txn,
        cx.rules,
        NewTransaction::new(
            key.clone(),
            TxKind::DeviceDeposit,
            format!("智能设备投放 {} {} 克", cat.name, credited),
        ),
        &[Credit {
            resident_id,
            district_code: dev.district_code.clone(),
            points,
            earned_at: now,
        }],
        &[],
    )
    .await?;
    // The recycling ledger counts what was collected, capped or not.
    let line = recycling_record::ActiveModel {
        id: Set(Uuid::now_v7()),
        source_key: Set(key),
        transaction_id: Set(posted.id),
        pickup_id: Set(None),
        device_event_id: Set(Some(event.id)),
        category_id: Set(cat.id),
        weight_g: Set(input.weight_g),
        count: Set(0),
        points: Set(points),
        fee_fen: Set(0),
        district_code: Set(dev.district_code.clone()),
        community_id: Set(None),
        recycler_id: Set(None),
        local_date: Set(local_date),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    crate::stats::rollups::add_recycling(&txn, &line, resident_id).await?;
    let receipt = DepositReceipt {
        event_id: input.event_id.clone(),
        points,
        credited_weight_g: credited,
        capped,
    };
    let body = serde_json::to_string(&receipt)
        .map_err(|e| Error::Internal(anyhow::anyhow!("receipt: {e}")))?;
    let mut am: device_event::ActiveModel = event.into();
    am.credited_g = Set(credited);
    am.points = Set(points);
    am.transaction_id = Set(Some(posted.id));
    am.response = Set(body.clone());
    am.update(&txn).await?;
    device::Entity::update_many()
        .col_expr(device::Column::LastSeenAt, Expr::value(now))
        .filter(device::Column::Id.eq(dev.id))
        .exec(&txn)
        .await?;
    let cap_note = if capped {
        format!("（已达今日上限，计入 {credited} 克）")
    } else {
        String::new()
    };
    crate::notifications::notify(
        &txn,
        crate::notifications::NewNotification {
            user_id: resident_id,
            kind: crate::notifications::kinds::POINTS.into(),
            title: "投放积分".into(),
            body: format!(
                "{} 投放{} {} 克，获得 {points} 绿色积分{cap_note}。",
                dev.name, cat.name, input.weight_g
            ),
            data: serde_json::json!({
                "device_id": dev.id,
                "event_id": input.event_id,
                "points": points,
                "credited_weight_g": credited,
                "capped": capped,
                "transaction_id": posted.id,
            }),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(body)
}

/// Raises the resident's running total for the category today by as much of `weight` as the
/// cap allows; returns (total before, grams credited). The row is locked (PostgreSQL) and
/// the update is conditional on the total read, so concurrent deposits never pass the cap.
async fn raise_daily_total(
    txn: &impl ConnectionTrait,
    resident_id: Uuid,
    cat: &category::Model,
    local_date: &str,
    weight: i64,
) -> Result<(i64, i64)> {
    device_daily_total::Entity::insert(device_daily_total::ActiveModel {
        user_id: Set(resident_id),
        category_id: Set(cat.id),
        local_date: Set(local_date.to_string()),
        weight_g: Set(0),
    })
    .on_conflict_do_nothing_on([
        device_daily_total::Column::UserId,
        device_daily_total::Column::CategoryId,
        device_daily_total::Column::LocalDate,
    ])
    .exec(txn)
    .await?;
    let mut find =
        device_daily_total::Entity::find_by_id((resident_id, cat.id, local_date.to_string()));
    if ledger::is_postgres(txn) {
        find = find.lock_exclusive();
    }
    let before = find.one(txn).await?.map_or(0, |t| t.weight_g);
    let credited = Ord::min(weight, Ord::max(cat.device_daily_cap - before, 0));
    if credited > 0 {
        let done = device_daily_total::Entity::update_many()
            .col_expr(
                device_daily_total::Column::WeightG,
                Expr::col(device_daily_total::Column::WeightG).add(credited),
            )
            .filter(device_daily_total::Column::UserId.eq(resident_id))
            .filter(device_daily_total::Column::CategoryId.eq(cat.id))
            .filter(device_daily_total::Column::LocalDate.eq(local_date))
            .filter(device_daily_total::Column::WeightG.eq(before))
            .exec(txn)
            .await?;
        if done.rows_affected != 1 {
            return Err(Error::conflict(
                "deposit_in_progress",
                "another deposit of this resident is being recorded; retry",
            ));
        }
    }
    Ok((before, credited))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_cover_timestamp_and_body() {
        let s = sign("k", "1700000000", b"{}").unwrap();
        assert_eq!(s.len(), 64);
        assert!(verify_signature("k", "1700000000", &s, b"{}").is_ok());
        assert!(verify_signature("k", "1700000001", &s, b"{}").is_err());
        assert!(verify_signature("k", "1700000000", &s, b"{ }").is_err());
        assert!(verify_signature("other", "1700000000", &s, b"{}").is_err());
        assert!(verify_signature("k", "1700000000", "zz", b"{}").is_err());
    }

    #[test]
    fn event_ids_are_short_printable_ascii() {
        assert!(valid_event_id("evt-0001"));
        assert!(valid_event_id(&"a".repeat(64)));
        assert!(!valid_event_id(""));
        assert!(!valid_event_id(&"a".repeat(65)));
        assert!(!valid_event_id("has space"));
        assert!(!valid_event_id("事件"));
        assert!(!valid_event_id("tab\t"));
    }
}
