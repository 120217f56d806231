//! Pickups whose slot ended without a recycler become `expired` (with a timeline entry and
//! a message to the resident); their slot capacity is not given back, since the slot is
//! over. Run periodically by the scheduler; idempotent, since each expiry is a transition
//! that applies once.

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};

use super::{
    notices::announce, offers::withdraw_offers_of, status::Status, timeline::Actor,
    transition::Transition, transition::transition,
};
use crate::{
    entities::{pickup, pickup_slot},
    error::{Error, Result},
    jobs::JobHandler,
    ports::queue::Delivery,
};

/// Expires every unassigned pickup whose slot has ended; returns how many.
pub async fn expire_due(db: &DatabaseConnection) -> Result<u64> {
    let ended: Vec<uuid::Uuid> = pickup_slot::Entity::find()
        .filter(pickup_slot::Column::EndsAt.lt(Utc::now()))
        .filter(pickup_slot::Column::Booked.gt(0))
        .select_only()
        .column(pickup_slot::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    if ended.is_empty() {
        return Ok(0);
    }
    let due = pickup::Entity::find()
        .filter(pickup::Column::SlotId.is_in(ended))
        .filter(pickup::Column::Status.is_in(Status::UNASSIGNED))
        .all(db)
        .await?;
    let mut n = 0;
    for p in due {
        let txn = db.begin().await?;
        let moved = transition(
            &txn,
            Transition {
                pickup_id: p.id,
                from: &Status::UNASSIGNED,
                to: Status::Expired,
                actor: Actor::SYSTEM,
                reason: "the slot ended without a recycler".into(),
                recycler: None,
                set: vec![],
            },
        )
        .await;
        match moved {
            Ok(_) => {
                let withdrawn = withdraw_offers_of(&txn, p.id).await?;
                announce(&txn, p.id, Status::Expired, &withdrawn).await?;
                txn.commit().await?;
                n += 1;
            }
            // Someone accepted or cancelled it meanwhile.
            Err(Error::Conflict { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// `pickups.expire`.
pub struct ExpireHandler {
    /// The database.
    pub db: DatabaseConnection,
}

#[async_trait]
impl JobHandler for ExpireHandler {
    async fn handle(&self, _job: &Delivery) -> anyhow::Result<()> {
        let n = expire_due(&self.db).await?;
        if n > 0 {
            tracing::info!(expired = n, "pickups expired");
        }
        Ok(())
    }
}
