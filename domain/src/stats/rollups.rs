//! The rollups behind the public statistics, kept in the transaction that writes the ledger
//! lines they sum ([`add_recycling`] beside every recycling-ledger line, [`add_postings`]
//! beside every points posting), and recomputed from the ledgers by [`rebuild`]. Both paths
//! key and classify through the same functions ([`recycling_key`], [`flow_of`]), so a
//! rebuild lands on what the writes kept.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionSession, TransactionTrait,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use serde::Serialize;
use uuid::Uuid;

use crate::{
    audit,
    auth::Principal,
    entities::{
        device_event, ledger_account,
        ledger_account::AccountKind,
        ledger_posting, pickup,
        points_rollup::{self, Flow},
        recycling_household, recycling_record,
        recycling_rollup::{self, Source},
    },
    error::Result,
    ledger::is_postgres,
};

/// The Beijing month (`YYYY-MM`) of an instant.
pub fn month_of(at: DateTime<Utc>) -> String {
    at.with_timezone(&crate::slots::shanghai())
        .format("%Y-%m")
        .to_string()
}

/// The key a recycling-ledger line is summed under: month, district, category, source.
pub fn recycling_key(r: &recycling_record::Model) -> (String, String, Uuid, Source) {
    let source = if r.pickup_id.is_some() {
        Source::Pickup
    } else {
        Source::Device
    };
    (
        r.local_date.chars().take(7).collect(),
        r.district_code.clone(),
        r.category_id,
        source,
    )
}

/// Sums of recycling-ledger lines.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Sums {
    weight_g: i64,
    items: i64,
    points: i64,
    lines: i64,
}

impl Sums {
    fn of(r: &recycling_record::Model) -> Self {
        Self {
            weight_g: r.weight_g,
            items: r.count,
            points: r.points,
            lines: 1,
        }
    }

    fn add(&mut self, o: Sums) {
        self.weight_g += o.weight_g;
        self.items += o.items;
        self.points += o.points;
        self.lines += o.lines;
    }
}

async fn upsert_recycling(
    txn: &impl ConnectionTrait,
    rows: Vec<recycling_rollup::ActiveModel>,
) -> Result<()> {
    use recycling_rollup::Column as C;
    if rows.is_empty() {
        return Ok(());
    }
    let mut conflict = OnConflict::columns([C::Month, C::DistrictCode, C::CategoryId, C::Source]);
    for c in [C::WeightG, C::Items, C::Points, C::Lines] {
        conflict.value(
            c,
            Expr::col((recycling_rollup::Entity, c)).add(Expr::col(("excluded", c))),
        );
    }
    recycling_rollup::Entity::insert_many(rows)
        .on_conflict(conflict.to_owned())
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

fn rollup_row(
    (month, district_code, category_id, source): (String, String, Uuid, Source),
    s: Sums,
) -> recycling_rollup::ActiveModel {
    recycling_rollup::ActiveModel {
        month: Set(month),
        district_code: Set(district_code),
        category_id: Set(category_id),
        source: Set(source),
        weight_g: Set(s.weight_g),
        items: Set(s.items),
        points: Set(s.points),
        lines: Set(s.lines),
    }
}

async fn insert_households(
    txn: &impl ConnectionTrait,
    rows: Vec<recycling_household::ActiveModel>,
) -> Result<()> {
    use recycling_household::Column as C;
    if rows.is_empty() {
        return Ok(());
    }
    recycling_household::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([C::Month, C::DistrictCode, C::Source, C::ResidentId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

fn household_row(
    (month, district_code, source): (String, String, Source),
    resident_id: Uuid,
) -> recycling_household::ActiveModel {
    recycling_household::ActiveModel {
        month: Set(month),
        district_code: Set(district_code),
        source: Set(source),
        resident_id: Set(resident_id),
    }
}

/// Adds recycling-ledger line `r` (just written in `txn`) to the rollups; `resident_id`
/// is the household it served. A reversal's negative line takes its weight off; the
/// household stays served.
pub(crate) async fn add_recycling(
    txn: &impl ConnectionTrait,
    r: &recycling_record::Model,
    resident_id: Uuid,
) -> Result<()> {
    let key = recycling_key(r);
    let household = (key.0.clone(), key.1.clone(), key.3);
    upsert_recycling(txn, vec![rollup_row(key, Sums::of(r))]).await?;
    if r.weight_g > 0 {
        insert_households(txn, vec![household_row(household, resident_id)]).await?;
    }
    Ok(())
}

/// The flow a posting from an account of kind `from` to one of kind `to` counts in, with
/// its sign, and which side's district it belongs to (`true`: the credited account's).
pub fn flow_of(from: AccountKind, to: AccountKind) -> Option<(Flow, i64, bool)> {
    use AccountKind as K;
    match (from, to) {
        (K::Programme, K::Resident) => Some((Flow::Issued, 1, false)),
        (K::Resident, K::Programme) => Some((Flow::Issued, -1, true)),
        (K::Resident, K::RedemptionSink) => Some((Flow::Redeemed, 1, true)),
        (K::RedemptionSink, K::Resident) => Some((Flow::Redeemed, -1, false)),
        (K::Resident, K::ExpirySink) => Some((Flow::Expired, 1, true)),
        (K::ExpirySink, K::Resident) => Some((Flow::Expired, -1, false)),
        _ => None,
    }
}

type Accounts = HashMap<Uuid, (AccountKind, Option<String>)>;

async fn accounts(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<Accounts> {
    let ids: BTreeSet<Uuid> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(ledger_account::Entity::find()
        .filter(ledger_account::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, (a.kind, a.district_code)))
        .collect())
}

/// Sums postings into `(month, district, flow) → amount`.
fn sum_postings(
    into: &mut BTreeMap<(String, String, Flow), i64>,
    postings: &[ledger_posting::Model],
    accounts: &Accounts,
) {
    for p in postings {
        let (Some((from, from_d)), Some((to, to_d))) = (
            accounts.get(&p.debit_account_id),
            accounts.get(&p.credit_account_id),
        ) else {
            continue;
        };
        let Some((flow, sign, credited_side)) = flow_of(*from, *to) else {
            continue;
        };
        let district = if credited_side { to_d } else { from_d };
        let key = (
            month_of(p.created_at),
            district.clone().unwrap_or_default(),
            flow,
        );
        *into.entry(key).or_default() += sign * p.amount;
    }
}

async fn upsert_points(
    txn: &impl ConnectionTrait,
    sums: BTreeMap<(String, String, Flow), i64>,
) -> Result<()> {
    use points_rollup::Column as C;
    let rows: Vec<_> = sums
        .into_iter()
        .map(
            |((month, district_code, flow), amount)| points_rollup::ActiveModel {
                month: Set(month),
                district_code: Set(district_code),
                flow: Set(flow),
                amount: Set(amount),
            },
        )
        .collect();
    for chunk in rows.chunks(500) {
        points_rollup::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([C::Month, C::DistrictCode, C::Flow])
                    .value(
                        C::Amount,
                        Expr::col((points_rollup::Entity, C::Amount))
                            .add(Expr::col(("excluded", C::Amount))),
                    )
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Adds postings (just written in `txn`) between `accounts` (read by the posting, which
/// locks them) to the points rollups.
pub(crate) async fn add_postings(
    txn: &impl ConnectionTrait,
    postings: &[ledger_posting::Model],
    accounts: &[ledger_account::Model],
) -> Result<()> {
    if postings.is_empty() {
        return Ok(());
    }
    let known: Accounts = accounts
        .iter()
        .map(|a| (a.id, (a.kind, a.district_code.clone())))
        .collect();
    let mut sums = BTreeMap::new();
    sum_postings(&mut sums, postings, &known);
    upsert_points(txn, sums).await
}

/// How many lines a rebuild read and rows it wrote.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Rebuilt {
    /// Recycling-ledger lines read.
    pub recycling_lines: u64,
    /// Points postings read.
    pub postings: u64,
    /// Rollup rows written (recycling, households, points).
    pub rows: u64,
}

const PAGE: u64 = 5000;

/// Recomputes every rollup from the ledgers, in one transaction that holds off the writers
/// (they add to the rollups in their own transactions, so they wait and then add to the
/// rebuilt rows). Super administrators; audited.
pub async fn rebuild(db: &impl TransactionTrait, who: &Principal) -> Result<Rebuilt> {
    who.require_super_admin()?;
    let txn = db.begin().await?;
    if is_postgres(&txn) {
        txn.execute_unprepared(
            "LOCK TABLE recycling_rollups, recycling_households, points_rollups IN EXCLUSIVE MODE",
        )
        .await?;
    }
    recycling_rollup::Entity::delete_many().exec(&txn).await?;
    recycling_household::Entity::delete_many()
        .exec(&txn)
        .await?;
    points_rollup::Entity::delete_many().exec(&txn).await?;

    let mut sums: BTreeMap<(String, String, Uuid, Source), Sums> = BTreeMap::new();
    let mut households: BTreeSet<((String, String, Source), Uuid)> = BTreeSet::new();
    let mut after: Option<Uuid> = None;
    let mut lines = 0u64;
    loop {
        let mut q = recycling_record::Entity::find()
            .order_by_asc(recycling_record::Column::Id)
            .limit(PAGE);
        if let Some(a) = after {
            q = q.filter(recycling_record::Column::Id.gt(a));
        }
        let page = q.all(&txn).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        lines += page.len() as u64;
        let pickups: HashMap<Uuid, Uuid> = pickup::Entity::find()
            .filter(pickup::Column::Id.is_in(page.iter().filter_map(|r| r.pickup_id)))
            .all(&txn)
            .await?
            .into_iter()
            .map(|p| (p.id, p.resident_id))
            .collect();
        let events: HashMap<Uuid, Uuid> = device_event::Entity::find()
            .filter(device_event::Column::Id.is_in(page.iter().filter_map(|r| r.device_event_id)))
            .all(&txn)
            .await?
            .into_iter()
            .map(|e| (e.id, e.user_id))
            .collect();
        for r in &page {
            let key = recycling_key(r);
            let resident = r
                .pickup_id
                .and_then(|id| pickups.get(&id))
                .or_else(|| r.device_event_id.and_then(|id| events.get(&id)));
            if let (Some(resident), true) = (resident, r.weight_g > 0) {
                households.insert(((key.0.clone(), key.1.clone(), key.3), *resident));
            }
            sums.entry(key).or_default().add(Sums::of(r));
        }
    }

    let mut points = BTreeMap::new();
    let mut after: Option<Uuid> = None;
    let mut postings = 0u64;
    loop {
        let mut q = ledger_posting::Entity::find()
            .order_by_asc(ledger_posting::Column::Id)
            .limit(PAGE);
        if let Some(a) = after {
            q = q.filter(ledger_posting::Column::Id.gt(a));
        }
        let page = q.all(&txn).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        postings += page.len() as u64;
        let known = accounts(
            &txn,
            page.iter()
                .flat_map(|p| [p.debit_account_id, p.credit_account_id]),
        )
        .await?;
        sum_postings(&mut points, &page, &known);
    }

    let rows = (sums.len() + households.len() + points.len()) as u64;
    let recycling: Vec<_> = sums.into_iter().map(|(k, s)| rollup_row(k, s)).collect();
    for chunk in recycling.chunks(500) {
        upsert_recycling(&txn, chunk.to_vec()).await?;
    }
    let served: Vec<_> = households
        .into_iter()
        .map(|(k, r)| household_row(k, r))
        .collect();
    for chunk in served.chunks(500) {
        insert_households(&txn, chunk.to_vec()).await?;
    }
    upsert_points(&txn, points).await?;
    let done = Rebuilt {
        recycling_lines: lines,
        postings,
        rows,
    };
    audit::record(
        &txn,
        Some(who.user_id),
        "stats.rebuild",
        "stats",
        "rollups",
        serde_json::json!({ "recycling_lines": lines, "postings": postings, "rows": rows }),
    )
    .await?;
    txn.commit().await?;
    Ok(done)
}
