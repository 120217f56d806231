//! A resident cancels their pickup: free before the cut-off, recorded as late after it.

use chrono::Utc;
use sea_orm::{DatabaseConnection, EntityTrait, TransactionTrait, sea_query::Expr};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    capacity::{release_recycler_load, release_slot},
    notices::announce,
    offers::withdraw_offers,
    rules::Rules,
    status::Status,
    timeline::Actor,
    transition::{Transition, reload, transition},
    views::{PickupView, own_pickup, view},
};
use crate::{
    auth::Principal,
    entities::{pickup, pickup_slot},
    error::Result,
};

/// Body of cancel.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelInput {
    /// Why (optional).
    pub reason: Option<String>,
}

/// Cancels the caller's pickup: free before the cut-off, recorded as late after it. Gives
/// back the slot and the recycler's capacity, withdraws open offers.
#[tracing::instrument(skip_all, fields(user_id = %who.user_id, pickup_id = %id))]
pub async fn cancel(
    db: &DatabaseConnection,
    who: &Principal,
    rules: Rules,
    id: Uuid,
    input: CancelInput,
) -> Result<PickupView> {
    let txn = db.begin().await?;
    let p = own_pickup(&txn, who, id).await?;
    let slot = pickup_slot::Entity::find_by_id(p.slot_id).one(&txn).await?;
    let late = slot.is_some_and(|s| Utc::now() > s.starts_at - rules.cancel_cutoff);
    let reason = input
        .reason
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect::<String>();
    let before = transition(
        &txn,
        Transition {
            pickup_id: id,
            from: &[
                Status::PendingDispatch,
                Status::Offered,
                Status::Accepted,
                Status::EnRoute,
            ],
            to: Status::Cancelled,
            actor: Actor::of(who),
            reason: if late {
                format!("late cancellation: {reason}")
            } else {
                reason
            },
            recycler: None,
            set: vec![(pickup::Column::LateCancellation, Expr::value(late))],
        },
    )
    .await?;
    release_slot(&txn, p.slot_id, p.needs_van).await?;
    if let Some(r) = before.recycler_id {
        release_recycler_load(&txn, r, p.slot_id).await?;
    }
    let mut told = withdraw_offers(&txn, id, None).await?;
    told.extend(before.recycler_id);
    announce(&txn, id, Status::Cancelled, &told).await?;
    let v = view(&txn, reload(&txn, id).await?).await?;
    txn.commit().await?;
    Ok(v)
}
