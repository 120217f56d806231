//! What administrators do to the points ledger: adjust a resident's points with a reason,
//! add budget to a district, resolve a weight dispute. Every action is an ordinary ledger
//! transaction plus an audit-log row, in one database transaction.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::settlement::{self, Priced};
use crate::{
    auth::{Principal, Role},
    entities::{
        district, ledger_transaction,
        pickup::{self, DisputeState},
        pickup_item, recycling_record, user,
    },
    error::{Error, Result},
    ledger::{self, AccountRef, Credit, Leg, NewTransaction, Sink, TxKind, lots::Draw},
    pickups::{PickupView, Status, view, work},
};

/// Largest single adjustment or budget grant.
pub const MAX_ADJUSTMENT: i64 = 1_000_000;
/// Largest single budget grant.
pub const MAX_BUDGET: i64 = 10_000_000_000;

/// Body of an adjustment.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentInput {
    /// The resident.
    pub user_id: Uuid,
    /// Signed points: positive credits (from the district's budget), negative debits
    /// (back to the budgets of the lots drawn).
    pub points: i64,
    /// The district whose budget pays a credit (defaults to the administrator's district).
    pub district_code: Option<String>,
    /// Why; shown to the resident and kept in the audit log.
    pub reason: String,
}

/// A posted ledger transaction.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TransactionView {
    /// Transaction id.
    pub id: Uuid,
    /// Its source key.
    pub source: String,
    /// Kind.
    pub kind: String,
    /// Memo.
    pub memo: String,
    /// When posted.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<ledger_transaction::Model> for TransactionView {
    fn from(t: ledger_transaction::Model) -> Self {
        Self {
            id: t.id,
            source: t.source_key,
            kind: t.kind.as_str().into(),
            memo: t.memo,
            created_at: t.created_at,
        }
    }
}

fn reason_of(reason: &str) -> Result<String> {
    let r = reason.trim();
    if r.is_empty() || r.chars().count() > 500 {
        return Err(Error::field(
            "reason",
            "invalid",
            "give a reason of 1 to 500 characters",
        ));
    }
    Ok(r.to_string())
}

/// Adjusts a resident's points. District administrators adjust from their own district's
/// budget; a debit draws the resident's lots oldest first, whatever their district, and
/// gives each district its points back.
pub async fn adjust(
    db: &DatabaseConnection,
    rules: &ledger::Rules,
    who: &Principal,
    input: AdjustmentInput,
) -> Result<TransactionView> {
    who.require_role(&[Role::Admin])?;
    let reason = reason_of(&input.reason)?;
    if input.points == 0 || input.points.unsigned_abs() > MAX_ADJUSTMENT.unsigned_abs() {
        return Err(Error::field(
            "points",
            "out_of_range",
            format!("must be non-zero and at most {MAX_ADJUSTMENT} either way"),
        ));
    }
    let district = match (&input.district_code, &who.district_code) {
        (Some(d), _) | (None, Some(d)) => d.clone(),
        (None, None) => {
            return Err(Error::field(
                "district_code",
                "required",
                "name the district whose budget pays",
            ));
        }
    };
    who.require_district(&district)?;
    let txn = db.begin().await?;
    if district::Entity::find_by_id(district.clone())
        .one(&txn)
        .await?
        .is_none()
    {
        return Err(Error::field("district_code", "unknown", "no such district"));
    }
    let resident = user::Entity::find_by_id(input.user_id)
        .one(&txn)
        .await?
        .filter(|u| u.role == Role::Resident)
        .ok_or(Error::NotFound { what: "resident" })?;
    let t = NewTransaction::new(
        format!("adjustment:{}", Uuid::now_v7()),
        TxKind::Adjustment,
        reason.clone(),
    )
    .by(Some(who.user_id));
    let posted = if input.points > 0 {
        ledger::post_credits(
            &txn,
            rules,
            t,
            &[Credit {
                resident_id: resident.id,
                district_code: district.clone(),
                points: input.points,
                earned_at: chrono::Utc::now(),
            }],
            &[],
        )
        .await?
    } else {
        ledger::post_debit(
            &txn,
            rules,
            t,
            resident.id,
            -input.points,
            Sink::Programme,
            Draw::Oldest,
            &[],
        )
        .await?
    };
    crate::audit::record(
        &txn,
        Some(who.user_id),
        "points.adjust",
        "user",
        &resident.id.to_string(),
        serde_json::json!({
            "points": input.points,
            "district_code": district,
            "reason": reason,
            "transaction_id": posted.id,
        }),
    )
    .await?;
    crate::notifications::notify(
        &txn,
        crate::notifications::NewNotification {
            user_id: resident.id,
            kind: crate::notifications::kinds::POINTS.into(),
            title: "积分调整".into(),
            body: format!("您的绿色积分调整 {:+}：{reason}", input.points),
            data: serde_json::json!({ "transaction_id": posted.id, "points": input.points }),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(posted.into())
}

/// Body of a budget grant.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetInput {
    /// The district.
    pub district_code: String,
    /// Points added to its programme budget.
    pub points: i64,
    /// Why (the appropriation's reference).
    pub reason: String,
}

/// Adds points to a district's programme budget from the city's appropriation (city-wide
/// administrators only).
pub async fn grant_budget(
    db: &DatabaseConnection,
    rules: &ledger::Rules,
    who: &Principal,
    input: BudgetInput,
) -> Result<TransactionView> {
    who.require_super_admin()?;
    let reason = reason_of(&input.reason)?;
    if input.points <= 0 || input.points > MAX_BUDGET {
        return Err(Error::field(
            "points",
            "out_of_range",
            format!("must be between 1 and {MAX_BUDGET}"),
        ));
    }
    let txn = db.begin().await?;
    if district::Entity::find_by_id(input.district_code.clone())
        .one(&txn)
        .await?
        .is_none()
    {
        return Err(Error::field("district_code", "unknown", "no such district"));
    }
    let programme = ledger::programme(&txn, &input.district_code, rules.initial_budget).await?;
    let source = ledger::account(&txn, &AccountRef::appropriation()).await?;
    let posted = ledger::post(
        &txn,
        NewTransaction::new(
            format!("budget:{}", Uuid::now_v7()),
            TxKind::Budget,
            reason.clone(),
        )
        .by(Some(who.user_id)),
        &[Leg::new(source.id, programme.id, input.points)],
    )
    .await?;
    crate::audit::record(
        &txn,
        Some(who.user_id),
        "points.budget",
        "district",
        &input.district_code,
        serde_json::json!({ "points": input.points, "reason": reason, "transaction_id": posted.id }),
    )
    .await?;
    txn.commit().await?;
    Ok(posted.into())
}

/// How an administrator decides a dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The resident is right: the corrected weigh ticket replaces the recorded one.
    Upheld,
    /// The recorded weights stand.
    Rejected,
}

/// Body of a dispute resolution.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveInput {
    /// The decision.
    pub decision: Decision,
    /// The corrected weigh ticket (required when upheld): every category collected.
    pub items: Option<Vec<work::WeighedItem>>,
    /// Why; shown to the resident.
    pub reason: String,
}

/// Resolves an open dispute. Upheld on a settled pickup: the corrected points are posted
/// (`pickup:<id>:corrected`) and the original settlement reversed (`pickup:<id>:reversal`,
/// its points drawn back from the lot it created first), with matching recycling-ledger
/// lines; on a pickup not settled yet the weights are corrected and settlement uses them.
pub async fn resolve_dispute(
    db: &DatabaseConnection,
    rules: &ledger::Rules,
    who: &Principal,
    pickup_id: Uuid,
    input: ResolveInput,
) -> Result<PickupView> {
    who.require_role(&[Role::Admin])?;
    let reason = reason_of(&input.reason)?;
    let txn = db.begin().await?;
    let p = crate::pickups::locks::lock_pickup(&txn, pickup_id)
        .await?
        .filter(|p| who.may_administer_district(&p.district_code))
        .ok_or(Error::NotFound { what: "pickup" })?;
    if p.dispute_state != Some(DisputeState::Open) {
        return Err(Error::conflict(
            "no_open_dispute",
            "this pickup has no open dispute",
        ));
    }
    let state = match input.decision {
        Decision::Rejected => DisputeState::Rejected,
        Decision::Upheld => {
            let items = input.items.as_deref().ok_or_else(|| {
                Error::field(
                    "items",
                    "required",
                    "an upheld dispute needs the corrected weights",
                )
            })?;
            work::validate_weighed(&txn, items).await?;
            correct(&txn, rules, who, &p, items).await?;
            DisputeState::Upheld
        }
    };
    if p.status == Status::Completed {
        // Settlement waited for the decision.
        settlement::stage(&txn, pickup_id).await?;
    }
    pickup::Entity::update_many()
        .col_expr(pickup::Column::DisputeState, Expr::value(state))
        .col_expr(pickup::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(pickup::Column::Id.eq(pickup_id))
        .exec(&txn)
        .await?;
    crate::audit::record(
        &txn,
        Some(who.user_id),
        "pickup.dispute_resolved",
        "pickup",
        &pickup_id.to_string(),
        serde_json::json!({ "decision": state.as_str(), "reason": reason, "items": input.items.as_ref().map(|i| i.len()) }),
    )
    .await?;
    let (title, body) = match input.decision {
        Decision::Upheld => (
            "申诉已受理",
            format!("您的称重申诉已核实，积分已按更正后的重量结算：{reason}"),
        ),
        Decision::Rejected => ("申诉未通过", format!("经核实，原称重记录有效：{reason}")),
    };
    crate::notifications::notify(
        &txn,
        crate::notifications::NewNotification {
            user_id: p.resident_id,
            kind: crate::notifications::kinds::PICKUP_STATUS.into(),
            title: title.into(),
            body,
            data: serde_json::json!({ "pickup_id": pickup_id, "dispute_state": state.as_str() }),
        },
    )
    .await?;
    let p = pickup::Entity::find_by_id(pickup_id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound { what: "pickup" })?;
    let v = view(&txn, p).await?;
    txn.commit().await?;
    Ok(v)
}

async fn correct(
    txn: &impl ConnectionTrait,
    rules: &ledger::Rules,
    who: &Principal,
    p: &pickup::Model,
    items: &[work::WeighedItem],
) -> Result<()> {
    pickup_item::Entity::update_many()
        .col_expr(pickup_item::Column::ActualWeightG, Expr::value(None::<i32>))
        .col_expr(pickup_item::Column::ActualCount, Expr::value(None::<i32>))
        .filter(pickup_item::Column::PickupId.eq(p.id))
        .exec(txn)
        .await?;
    work::record_weighed(txn, p.id, items).await?;
    if p.status != Status::Settled {
        // Not settled yet: settlement reads the corrected weights.
        return Ok(());
    }
    let (Some(recycler_id), Some(completed_at)) = (p.recycler_id, p.completed_at) else {
        return Err(Error::Internal(anyhow::anyhow!(
            "settled pickup {} has no recycler or completion time",
            p.id
        )));
    };
    let original = ledger::find_transaction(txn, &settlement::source_key(p.id))
        .await?
        .ok_or_else(|| {
            Error::Internal(anyhow::anyhow!("settled pickup {} has no settlement", p.id))
        })?;
    let corrected_items = pickup_item::Entity::find()
        .filter(pickup_item::Column::PickupId.eq(p.id))
        .all(txn)
        .await?;
    let priced = settlement::price_items(txn, &corrected_items, completed_at).await?;
    let points: i64 = priced.iter().map(|i| i.points).sum();
    let corrected = settlement::post_settlement(
        txn,
        rules,
        p,
        recycler_id,
        completed_at,
        &priced,
        NewTransaction::new(
            format!("{}:corrected", settlement::source_key(p.id)),
            TxKind::Settlement,
            format!("申诉更正后积分 {points}"),
        )
        .by(Some(who.user_id)),
    )
    .await?;
    settlement::write_records(
        txn,
        p,
        recycler_id,
        completed_at,
        corrected.id,
        &priced,
        ":corrected",
    )
    .await?;
    let reversal = ledger::reverse(
        txn,
        rules,
        &original,
        NewTransaction::new(
            format!("{}:reversal", settlement::source_key(p.id)),
            TxKind::Reversal,
            "申诉更正：冲销原结算",
        )
        .by(Some(who.user_id)),
    )
    .await?;
    let before: Vec<Priced> = recycling_record::Entity::find()
        .filter(recycling_record::Column::TransactionId.eq(original.id))
        .all(txn)
        .await?
        .into_iter()
        .map(|r| Priced {
            category_id: r.category_id,
            weight_g: r.weight_g,
            count: r.count,
            points: r.points,
            fee_fen: r.fee_fen,
        })
        .collect();
    settlement::write_signed_records(
        txn,
        p,
        recycler_id,
        completed_at,
        reversal.id,
        &before,
        ":reversal",
        -1,
    )
    .await?;
    Ok(())
}

/// Body-less lookup of a resident by id for administrators: the ledger lines of anyone.
pub async fn resident_exists(db: &impl ConnectionTrait, user_id: Uuid) -> Result<()> {
    user::Entity::find_by_id(user_id)
        .select_only()
        .column(user::Column::Id)
        .into_tuple::<Uuid>()
        .one(db)
        .await?
        .map(|_| ())
        .ok_or(Error::NotFound { what: "user" })
}
