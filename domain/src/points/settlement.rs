//! Settlement of completed pickups, run by the worker on `pickup.completed`.
//!
//! In ONE database transaction: lock the pickup; if it is no longer `completed` (already
//! settled by a duplicate delivery, or never completed) do nothing; price every weighed
//! item at the rate version in force at completion; post one ledger transaction under the
//! source key `pickup:<id>` (the district's programme budget → the resident's points as a
//! lot; the district's fee payable → the recycler's earnings); write the recycling-ledger
//! lines; move the pickup to `settled`; tell the resident. A retried, duplicated or
//! concurrent delivery credits once: the pickup lock serialises them, the state check makes
//! the later ones no-ops, and the unique source key would refuse a second posting anyway.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::{
    entities::{
        category::{self, Unit},
        pickup::{self, DisputeState},
        pickup_item, recycling_record,
    },
    error::{Error, Result},
    jobs::{JobHandler, outbox},
    ledger::{self, AccountRef, Credit, Leg, NewTransaction, TxKind},
    pickups::{Actor, Status, Transition, notices::announce, transition},
    ports::queue::Delivery,
};

/// The completion event settlement consumes (staged by `complete`).
pub const TOPIC: &str = crate::pickups::topics::COMPLETED;

/// One category of a pickup, priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priced {
    /// Category.
    pub category_id: Uuid,
    /// Grams collected (kg categories).
    pub weight_g: i64,
    /// Pieces collected (piece categories).
    pub count: i64,
    /// Points for it.
    pub points: i64,
    /// Recycler's service fee for it (fen).
    pub fee_fen: i64,
}

/// Points or fen for `amount` of a category at `per_unit`: grams are priced per kilogram,
/// rounded down to whole points; pieces per piece.
pub fn price(unit: Unit, weight_g: i64, count: i64, per_unit: i64) -> i64 {
    if unit == Unit::Kg {
        weight_g.saturating_mul(per_unit) / 1000
    } else {
        count.saturating_mul(per_unit)
    }
}

/// Prices the weighed items of a pickup at the rates in force at `at`. Items with no
/// actual amount (estimated but not collected) are skipped; a category with no rate at
/// that instant earns nothing.
pub async fn price_items(
    db: &impl ConnectionTrait,
    items: &[pickup_item::Model],
    at: DateTime<Utc>,
) -> Result<Vec<Priced>> {
    let cats = category::Entity::find()
        .filter(category::Column::Id.is_in(items.iter().map(|i| i.category_id)))
        .all(db)
        .await?;
    let mut out = Vec::new();
    for i in items {
        let weight_g = i.actual_weight_g.map_or(0, i64::from);
        let count = i.actual_count.map_or(0, i64::from);
        if weight_g <= 0 && count <= 0 {
            continue;
        }
        let unit = cats
            .iter()
            .find(|c| c.id == i.category_id)
            .map_or(Unit::Kg, |c| c.unit);
        let rate = crate::catalog::rate_at(db, i.category_id, at).await?;
        let (ppu, fee) = rate.map_or((0, 0), |r| {
            (
                i64::from(r.points_per_unit),
                i64::from(r.service_fee_fen_per_unit),
            )
        });
        out.push(Priced {
            category_id: i.category_id,
            weight_g,
            count,
            points: price(unit, weight_g, count, ppu),
            fee_fen: price(unit, weight_g, count, fee),
        });
    }
    Ok(out)
}

/// What a settlement did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Posted now.
    Settled {
        /// Points credited.
        points: i64,
        /// Fee credited (fen).
        fee_fen: i64,
    },
    /// Nothing to do: settled before, or not completed.
    Skipped,
}

/// Settles one pickup (see the module doc). Refuses with 409 `budget_exhausted` when the
/// district's budget cannot pay; the job is retried and the periodic sweep tries again.
#[tracing::instrument(skip(db, rules))]
pub async fn settle(
    db: &DatabaseConnection,
    rules: &ledger::Rules,
    pickup_id: Uuid,
) -> Result<Outcome> {
    let txn = db.begin().await?;
    let Some(p) = crate::pickups::locks::lock_pickup(&txn, pickup_id).await? else {
        return Ok(Outcome::Skipped);
    };
    if p.status != Status::Completed {
        return Ok(Outcome::Skipped);
    }
    // The resident disputes the weigh ticket before the points posted: they post once an
    // administrator has decided (resolution stages settlement again).
    if p.dispute_state == Some(DisputeState::Open) {
        return Ok(Outcome::Skipped);
    }
    let (Some(recycler_id), Some(completed_at)) = (p.recycler_id, p.completed_at) else {
        return Err(Error::Internal(anyhow::anyhow!(
            "completed pickup {pickup_id} has no recycler or completion time"
        )));
    };
    let items = pickup_item::Entity::find()
        .filter(pickup_item::Column::PickupId.eq(pickup_id))
        .all(&txn)
        .await?;
    let priced = price_items(&txn, &items, completed_at).await?;
    let points: i64 = priced.iter().map(|i| i.points).sum();
    let fee_fen: i64 = priced.iter().map(|i| i.fee_fen).sum();
    // Everything but the ledger first: the postings lock the district's shared programme
    // and fee accounts, so they go last and are held only until the commit.
    let tx_id = Uuid::now_v7();
    write_records(&txn, &p, recycler_id, completed_at, tx_id, &priced, "").await?;
    transition(
        &txn,
        Transition {
            pickup_id,
            from: &[Status::Completed],
            to: Status::Settled,
            actor: Actor::SYSTEM,
            reason: format!("{points} points posted"),
            recycler: None,
            set: vec![],
        },
    )
    .await?;
    announce(&txn, pickup_id, Status::Settled, &[]).await?;
    if points > 0 {
        crate::notifications::notify(
            &txn,
            crate::notifications::NewNotification {
                user_id: p.resident_id,
                kind: crate::notifications::kinds::POINTS.into(),
                title: "积分已到账".into(),
                body: format!("本次上门回收获得 {points} 绿色积分。"),
                data: serde_json::json!({ "pickup_id": pickup_id, "points": points }),
            },
        )
        .await?;
    }
    let mut t = NewTransaction::new(
        source_key(pickup_id),
        TxKind::Settlement,
        format!("上门回收积分 {points}"),
    );
    t.id = Some(tx_id);
    post_settlement(&txn, rules, &p, recycler_id, completed_at, &priced, t).await?;
    txn.commit().await?;
    Ok(Outcome::Settled { points, fee_fen })
}

/// The ledger source key of a pickup's settlement.
pub fn source_key(pickup_id: Uuid) -> String {
    format!("pickup:{pickup_id}")
}

/// Posts the points and the fee of priced items of `p` under `t`.
pub(crate) async fn post_settlement(
    txn: &impl ConnectionTrait,
    rules: &ledger::Rules,
    p: &pickup::Model,
    recycler_id: Uuid,
    completed_at: DateTime<Utc>,
    priced: &[Priced],
    t: NewTransaction,
) -> Result<crate::entities::ledger_transaction::Model> {
    let points: i64 = priced.iter().map(|i| i.points).sum();
    let fee_fen: i64 = priced.iter().map(|i| i.fee_fen).sum();
    let mut extra = Vec::new();
    if fee_fen > 0 {
        let payable = ledger::account(txn, &AccountRef::fee_payable(&p.district_code)).await?;
        let earnings = ledger::account(txn, &AccountRef::recycler(recycler_id)).await?;
        extra.push(Leg::new(payable.id, earnings.id, fee_fen));
    }
    ledger::post_credits(
        txn,
        rules,
        t,
        &[Credit {
            resident_id: p.resident_id,
            district_code: p.district_code.clone(),
            points,
            earned_at: completed_at,
        }],
        &extra,
    )
    .await
}

/// Writes the recycling-ledger lines of priced items (`sign` −1 for a reversal), keyed
/// `pickup:<id>:<category><suffix>`.
pub(crate) async fn write_records(
    txn: &impl ConnectionTrait,
    p: &pickup::Model,
    recycler_id: Uuid,
    at: DateTime<Utc>,
    transaction_id: Uuid,
    priced: &[Priced],
    suffix: &str,
) -> Result<()> {
    write_signed_records(txn, p, recycler_id, at, transaction_id, priced, suffix, 1).await
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn write_signed_records(
    txn: &impl ConnectionTrait,
    p: &pickup::Model,
    recycler_id: Uuid,
    at: DateTime<Utc>,
    transaction_id: Uuid,
    priced: &[Priced],
    suffix: &str,
    sign: i64,
) -> Result<()> {
    let local_date = at
        .with_timezone(&crate::slots::shanghai())
        .format("%Y-%m-%d")
        .to_string();
    let now = Utc::now();
    for i in priced {
        let line = recycling_record::ActiveModel {
            id: Set(Uuid::now_v7()),
            source_key: Set(format!("pickup:{}:{}{suffix}", p.id, i.category_id)),
            transaction_id: Set(transaction_id),
            pickup_id: Set(Some(p.id)),
            device_event_id: Set(None),
            category_id: Set(i.category_id),
            weight_g: Set(sign * i.weight_g),
            count: Set(sign * i.count),
            points: Set(sign * i.points),
            fee_fen: Set(sign * i.fee_fen),
            district_code: Set(p.district_code.clone()),
            community_id: Set(p.community_id),
            recycler_id: Set(Some(recycler_id)),
            local_date: Set(local_date.clone()),
            created_at: Set(now),
        }
        .insert(txn)
        .await?;
        crate::stats::rollups::add_recycling(txn, &line, p.resident_id).await?;
    }
    Ok(())
}

/// The `pickup.completed` job.
pub struct SettleHandler {
    /// The database.
    pub db: DatabaseConnection,
    /// Ledger rules.
    pub rules: ledger::Rules,
}

#[async_trait]
impl JobHandler for SettleHandler {
    async fn handle(&self, job: &Delivery) -> anyhow::Result<()> {
        let id: Uuid = job
            .payload
            .get("pickup_id")
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("pickup.completed without a pickup_id"))?;
        match settle(&self.db, &self.rules, id).await? {
            Outcome::Settled { points, fee_fen } => {
                tracing::info!(pickup_id = %id, points, fee_fen, "pickup settled");
            }
            Outcome::Skipped => tracing::debug!(pickup_id = %id, "nothing to settle"),
        }
        Ok(())
    }
}

/// Topic of the periodic sweep that settles completed pickups whose event was lost or
/// dead-lettered (a budget topped up later, an outage longer than the retries).
pub const SWEEP_TOPIC: &str = "points.settle_stragglers";

/// Settles pickups completed more than `grace` ago and still `completed`; returns how many
/// were settled.
pub async fn settle_stragglers(
    db: &DatabaseConnection,
    rules: &ledger::Rules,
    grace: chrono::Duration,
) -> Result<u64> {
    let due: Vec<Uuid> = pickup::Entity::find()
        .filter(pickup::Column::Status.eq(Status::Completed))
        .filter(pickup::Column::CompletedAt.lt(Utc::now() - grace))
        .select_only()
        .column(pickup::Column::Id)
        .limit(500)
        .into_tuple()
        .all(db)
        .await?;
    let mut n = 0;
    for id in due {
        match settle(db, rules, id).await {
            Ok(Outcome::Settled { .. }) => n += 1,
            Ok(Outcome::Skipped) => {}
            Err(e) => tracing::warn!(pickup_id = %id, error = %e, "straggler not settled"),
        }
    }
    Ok(n)
}

/// The periodic straggler sweep.
pub struct SweepHandler {
    /// The database.
    pub db: DatabaseConnection,
    /// Ledger rules.
    pub rules: ledger::Rules,
}

#[async_trait]
impl JobHandler for SweepHandler {
    async fn handle(&self, _job: &Delivery) -> anyhow::Result<()> {
        let n = settle_stragglers(&self.db, &self.rules, chrono::Duration::minutes(5)).await?;
        if n > 0 {
            tracing::info!(settled = n, "straggling pickups settled");
        }
        Ok(())
    }
}

/// Stages settlement of a pickup again (used after a dispute changes its weights while it
/// is still unsettled).
pub async fn stage(txn: &impl ConnectionTrait, pickup_id: Uuid) -> Result<()> {
    outbox::stage(
        txn,
        TOPIC,
        serde_json::json!({ "pickup_id": pickup_id }),
        None,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Unit, price};

    #[test]
    fn grams_are_priced_per_kilogram_rounded_down() {
        assert_eq!(price(Unit::Kg, 4200, 0, 10), 42);
        assert_eq!(price(Unit::Kg, 1500, 0, 15), 22);
        assert_eq!(price(Unit::Kg, 999, 0, 1), 0);
        assert_eq!(price(Unit::Kg, 0, 3, 10), 0);
    }

    #[test]
    fn pieces_are_priced_per_piece() {
        assert_eq!(price(Unit::Piece, 0, 3, 50), 150);
        assert_eq!(price(Unit::Piece, 5000, 0, 50), 0);
    }

    #[test]
    fn absurd_amounts_saturate_instead_of_overflowing() {
        assert_eq!(price(Unit::Piece, 0, i64::MAX, 2), i64::MAX);
    }
}
