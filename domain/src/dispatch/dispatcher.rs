//! The dispatcher itself: its parts (database, geo index, policy, pub/sub) and its entry
//! points (a round for a pickup, the round right after a booking). What a round decides
//! is in `round`; how it is written, in `postgres` and `sqlite`.

use std::sync::Arc;

use chrono::Utc;
use sea_orm::{DatabaseBackend, DatabaseConnection, EntityTrait, TransactionTrait};
use uuid::Uuid;

use super::{
    candidates::Prefetched,
    claim::claim_outbox_row,
    policy::Policy,
    tries::{After, IfNobody, due},
};
use crate::{
    entities::{pickup, pickup_slot},
    error::{Error, Result},
    pickups::retry::FirstTry,
    ports::{
        geo::{GeoIndex, Nearby, Position},
        pubsub::PubSub,
    },
};

/// The dispatcher: handlers for `pickup.dispatch` and `pickup.offer_timeout`.
#[derive(Clone)]
pub struct Dispatcher {
    pub(super) db: DatabaseConnection,
    pub(super) geo: Arc<dyn GeoIndex>,
    pub(super) policy: Policy,
    pub(super) pubsub: Option<Arc<dyn PubSub>>,
}

impl Dispatcher {
    /// A dispatcher.
    pub fn new(db: DatabaseConnection, geo: Arc<dyn GeoIndex>, policy: Policy) -> Self {
        Self {
            db,
            geo,
            policy,
            pubsub: None,
        }
    }

    /// Pushes each new offer to its recycler straight after the dispatch commits, instead
    /// of through the `pickup.offers_made` job (staged then only if a push fails).
    pub fn pushing_to(mut self, pubsub: Arc<dyn PubSub>) -> Self {
        self.pubsub = Some(pubsub);
        self
    }

    /// How the dispatch job of a booking about to be written first runs: it waits for its
    /// next try when nobody at all is on shift with a fresh position (the geo index's
    /// [`GeoIndex::any_fresh`]), else it runs at once. When the geo index cannot answer,
    /// at once: that round then finds out for itself, or the queue retries it.
    ///
    /// A recycler whose first fresh position arrives between this answer and the booking's
    /// commit is not offered this pickup until its next try, just as one whose position
    /// arrives after their shift-on nudge.
    pub async fn first_try(&self) -> FirstTry {
        if self.policy.max_rounds < 1 {
            return FirstTry::AtOnce;
        }
        match self.geo.any_fresh(self.policy.fresh_within).await {
            Ok(false) => FirstTry::Wait(self.policy.retry()),
            Ok(true) => FirstTry::AtOnce,
            Err(e) => {
                tracing::warn!(error = %e, "the geo index did not answer; a booking dispatches at once");
                FirstTry::AtOnce
            }
        }
    }

    /// Offers a pending pickup to the next recycler(s), sends it to manual dispatch, or,
    /// when nobody can take it yet and its slot is not near, schedules its next try.
    pub async fn dispatch(&self, pickup_id: Uuid) -> Result<()> {
        self.dispatch_as(pickup_id, None, IfNobody::Retry(None))
            .await
    }

    /// One round for pickup `pickup_id`, unless it is no longer pending, or (with `after`:
    /// a scheduled try) it has had another round since, or moved to another slot.
    ///
    /// On PostgreSQL the pickup is read without a lock: when it needs nothing (it is no
    /// longer pending) that read is all; otherwise [`Self::round_now`] writes the round in
    /// one conditional statement. On SQLite the round is a transaction under the pickup's
    /// lock ([`Self::dispatch_in`]).
    #[tracing::instrument(skip(self), fields(pickup_id = %pickup_id))]
    pub(super) async fn dispatch_as(
        &self,
        pickup_id: Uuid,
        after: Option<After>,
        if_nobody: IfNobody,
    ) -> Result<()> {
        if self.db.get_database_backend() == DatabaseBackend::Postgres {
            let Some((p, slot)) = pickup::Entity::find_by_id(pickup_id)
                .find_also_related(pickup_slot::Entity)
                .one(&self.db)
                .await?
            else {
                return Ok(());
            };
            if !due(&p, after) {
                return Ok(());
            }
            let slot = slot
                .ok_or_else(|| Error::Internal(anyhow::anyhow!("pickup {} has no slot", p.id)))?;
            self.round_now(&p, slot.starts_at, None, if_nobody, None)
                .await?;
            return Ok(());
        }
        let txn = self.db.begin().await?;
        let offered = self.dispatch_in(&txn, pickup_id, after, if_nobody).await?;
        txn.commit().await?;
        self.push_offers(offered).await;
        Ok(())
    }

    /// Dispatches pickup `p`, just booked for a slot starting at `slot_starts_at`, right
    /// away in the process that booked it, when no relay has taken its dispatch job (outbox
    /// row `job`) yet: deleting that row in the dispatch's own write claims the job (on
    /// PostgreSQL, a round that finds nobody moves it to the next try instead), so either
    /// this call or the queued job does the work (and a second run is a no-op anyway).
    /// Returns whether it ran; `false` means the queue has the job. On an error nothing is
    /// written, the row stays in the outbox and the queue runs the job.
    ///
    /// On PostgreSQL the round, claim included, is one statement (`postgres.rs`).
    #[tracing::instrument(skip(self, p, slot_starts_at), fields(pickup_id = %p.id))]
    pub async fn dispatch_booked(
        &self,
        p: &pickup::Model,
        slot_starts_at: chrono::DateTime<Utc>,
        job: Uuid,
        prefetched: Option<Prefetched>,
    ) -> Result<bool> {
        if self.db.get_database_backend() == DatabaseBackend::Postgres {
            return self
                .round_now(
                    p,
                    slot_starts_at,
                    Some(job),
                    IfNobody::Retry(None),
                    prefetched,
                )
                .await;
        }
        let txn = self.db.begin().await?;
        if !claim_outbox_row(&txn, job).await? {
            return Ok(false);
        }
        let offered = self
            .dispatch_in(&txn, p.id, None, IfNobody::Retry(None))
            .await?;
        txn.commit().await?;
        self.push_offers(offered).await;
        Ok(true)
    }

    /// The recyclers with a fresh position within the policy's radius of `at`.
    pub(super) async fn search(&self, at: Position) -> Result<Vec<Nearby>> {
        self.geo
            .nearby(at, self.policy.radius_m, 200, self.policy.fresh_within)
            .await
            .map_err(Error::from)
    }
}
