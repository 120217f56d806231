//! Expiry by lot: every lot with points left whose expiry has passed is emptied into its
//! district's expiry sink by an ordinary ledger transaction, oldest first. Each transaction
//! is keyed `expiry:<lot>:<draws so far>`, so two schedulers expiring the same lot post
//! once; a refund that later puts points back into an expired lot is expired by the next
//! run under the next key.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use crate::{
    entities::{ledger_account, lot_draw, point_lot},
    error::{Error, Result},
    jobs::JobHandler,
    ledger::{self, NewTransaction, Sink, TxKind, lots::Draw},
    ports::queue::Delivery,
};

/// Topic of the periodic expiry run.
pub const TOPIC: &str = "points.expire";

/// Expires every lot due at `now`; returns the points expired.
pub async fn expire_due(
    db: &DatabaseConnection,
    rules: &ledger::Rules,
    now: DateTime<Utc>,
) -> Result<i64> {
    let mut total = 0;
    loop {
        let due = point_lot::Entity::find()
            .filter(point_lot::Column::Remaining.gt(0))
            .filter(point_lot::Column::ExpiresAt.lte(now))
            .order_by_asc(point_lot::Column::ExpiresAt)
            .order_by_asc(point_lot::Column::Id)
            .limit(200)
            .all(db)
            .await?;
        if due.is_empty() {
            return Ok(total);
        }
        let mut progressed = false;
        for lot in due {
            match expire_lot(db, rules, lot.id).await {
                Ok(n) => {
                    total += n;
                    progressed |= n > 0;
                }
                // Another run expired it, or the resident spent it meanwhile.
                Err(Error::Conflict { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        if !progressed {
            return Ok(total);
        }
    }
}

/// Expires what is left of one lot (if anything); returns the points expired.
pub async fn expire_lot(
    db: &DatabaseConnection,
    rules: &ledger::Rules,
    lot_id: uuid::Uuid,
) -> Result<i64> {
    let txn = db.begin().await?;
    let Some(lot) = point_lot::Entity::find_by_id(lot_id).one(&txn).await? else {
        return Ok(0);
    };
    let Some(acct) = ledger_account::Entity::find_by_id(lot.account_id)
        .one(&txn)
        .await?
    else {
        return Ok(0);
    };
    let Some(resident_id) = acct.user_id else {
        return Ok(0);
    };
    ledger::lock_resident(&txn, resident_id).await?;
    // Re-read under the lock: a redemption may have drawn it meanwhile.
    let Some(lot) = point_lot::Entity::find_by_id(lot.id).one(&txn).await? else {
        return Ok(0);
    };
    if lot.remaining == 0 {
        return Ok(0);
    }
    let draws = lot_draw::Entity::find()
        .filter(lot_draw::Column::LotId.eq(lot.id))
        .count(&txn)
        .await?;
    ledger::post_debit(
        &txn,
        rules,
        NewTransaction::new(
            format!("expiry:{}:{draws}", lot.id),
            TxKind::Expiry,
            format!("积分过期 {}", lot.remaining),
        ),
        resident_id,
        lot.remaining,
        Sink::Expiry,
        Draw::Only(lot.id),
        &[],
    )
    .await?;
    txn.commit().await?;
    Ok(lot.remaining)
}

/// The periodic `points.expire` job.
pub struct ExpireHandler {
    /// The database.
    pub db: DatabaseConnection,
    /// Ledger rules.
    pub rules: ledger::Rules,
}

#[async_trait]
impl JobHandler for ExpireHandler {
    async fn handle(&self, _job: &Delivery) -> anyhow::Result<()> {
        let points = expire_due(&self.db, &self.rules, Utc::now()).await?;
        if points > 0 {
            tracing::info!(points, "points expired");
        }
        Ok(())
    }
}
