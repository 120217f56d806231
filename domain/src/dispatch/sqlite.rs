//! A round on SQLite: a transaction under the pickup's lock (SQLite serialises writers),
//! which reads, decides and writes.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, sea_query::Expr,
};
use uuid::Uuid;

use super::{
    dispatcher::Dispatcher,
    round::Plan,
    tries::{After, IfNobody, due},
};
use crate::{
    entities::{offer, pickup},
    error::{Error, Result},
    jobs::outbox,
    pickups::{
        Actor, Status, Transition, locks::lock_pickup_with_slot, notices::announce_as,
        record_event, round::Offered, transition_locked,
    },
};

impl Dispatcher {
    /// The dispatch itself, in the caller's transaction, under the pickup's lock; returns
    /// the offers made. (SQLite's way; PostgreSQL's is [`Self::round_now`].)
    pub(super) async fn dispatch_in(
        &self,
        txn: &DatabaseTransaction,
        pickup_id: Uuid,
        after: Option<After>,
        if_nobody: IfNobody,
    ) -> Result<Option<Offered>> {
        let Some((p, slot)) = lock_pickup_with_slot(txn, pickup_id).await? else {
            return Ok(None);
        };
        if !due(&p, after) {
            return Ok(None);
        }
        let slot =
            slot.ok_or_else(|| Error::Internal(anyhow::anyhow!("pickup {} has no slot", p.id)))?;
        let nearby = match self.plan(&p, slot.starts_at, None).await? {
            Plan::Escalate(why) => {
                escalate(txn, &p, why).await?;
                return Ok(None);
            }
            Plan::Wait => {
                self.stage_next_try(txn, &p, slot.starts_at, if_nobody)
                    .await?;
                return Ok(None);
            }
            Plan::Offer(nearby) => nearby,
        };
        let shortlist = self.candidates(txn, &p, &nearby).await?;
        if shortlist.candidates.is_empty() {
            self.stage_next_try(txn, &p, slot.starts_at, if_nobody)
                .await?;
            return Ok(None);
        }
        let mut round = self.round(p.id, p.dispatch_round + 1, shortlist, Utc::now());
        offer::Entity::insert_many(
            round
                .offers
                .iter()
                .map(|o| o.clone().into_active_model().reset_all()),
        )
        .exec_without_returning(txn)
        .await?;
        transition_locked(
            txn,
            &p,
            Transition {
                pickup_id: p.id,
                from: &[Status::PendingDispatch],
                to: Status::Offered,
                actor: Actor::SYSTEM,
                reason: round.reason.clone(),
                recycler: None,
                set: vec![(pickup::Column::DispatchRound, Expr::value(round.number))],
            },
        )
        .await?;
        outbox::stage_all(txn, std::mem::take(&mut round.jobs)).await?;
        tracing::info!(
            round = round.number,
            offered = round.offers.len(),
            "pickup offered"
        );
        Ok(Some(round.offered(p.id)))
    }
}

/// Puts a pending pickup in the manual-dispatch queue and tells the resident.
pub(super) async fn escalate(
    txn: &impl ConnectionTrait,
    p: &pickup::Model,
    why: &str,
) -> Result<()> {
    let now = Utc::now();
    let moved = pickup::Entity::update_many()
        .col_expr(pickup::Column::ManualDispatch, Expr::value(true))
        .col_expr(pickup::Column::UpdatedAt, Expr::value(now))
        .filter(pickup::Column::Id.eq(p.id))
        .filter(pickup::Column::Status.eq(Status::PendingDispatch))
        .filter(pickup::Column::ManualDispatch.eq(false))
        .exec(txn)
        .await?
        .rows_affected;
    if moved == 1 {
        record_event(
            txn,
            p.id,
            Some(p.status),
            Status::PendingDispatch,
            &Actor::SYSTEM,
            &format!("manual dispatch: {why}"),
        )
        .await?;
        let queued = pickup::Model {
            manual_dispatch: true,
            updated_at: now,
            ..p.clone()
        };
        announce_as(txn, &queued, Status::PendingDispatch, &[]).await?;
        tracing::info!(pickup_id = %p.id, why, "pickup sent to manual dispatch");
    }
    Ok(())
}
