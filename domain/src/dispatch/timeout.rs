//! An offer's time ran out: the round's open offers expire and the pickup moves on.

use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::dispatcher::Dispatcher;
use crate::{
    error::Result,
    pickups::{
        locks::lock_pickup,
        notices::announce,
        offers::{after_offer_closed, expire_round},
    },
};

impl Dispatcher {
    /// Expires the offers of `round` still open, and moves on.
    #[tracing::instrument(skip(self), fields(pickup_id = %pickup_id, round))]
    pub async fn offer_timeout(&self, pickup_id: Uuid, round: i32) -> Result<()> {
        let txn = self.db.begin().await?;
        if lock_pickup(&txn, pickup_id).await?.is_none() {
            return Ok(());
        }
        let expired = expire_round(&txn, pickup_id, round).await?;
        after_offer_closed(&txn, pickup_id).await?;
        if !expired.is_empty() {
            let status = crate::pickups::reload(&txn, pickup_id).await?.status;
            announce(&txn, pickup_id, status, &expired).await?;
        }
        txn.commit().await?;
        Ok(())
    }
}
