//! A resident moves their pickup into another slot, in one transaction.

use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait, sea_query::Expr,
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    booking::checks::bookable_slot,
    capacity::{release_recycler_load, release_slot, take_slot},
    notices::announce,
    offers::withdraw_offers,
    rules::Rules,
    status::Status,
    timeline::Actor,
    topics::DISPATCH,
    transition::{Transition, reload, transition},
    views::{PickupView, own_pickup, view},
};
use crate::{
    auth::Principal,
    entities::{offer, pickup},
    error::{Error, Result},
    jobs::outbox,
};

/// Body of reschedule.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleInput {
    /// The new slot (for the same address).
    pub slot_id: Uuid,
}

/// Moves the caller's pickup into another slot in one transaction: the new slot's capacity
/// is taken before the old is given back, and any recycler or offer is released so the
/// pickup is dispatched again for the new time.
#[tracing::instrument(skip_all, fields(user_id = %who.user_id, pickup_id = %id))]
pub async fn reschedule(
    db: &DatabaseConnection,
    who: &Principal,
    rules: Rules,
    id: Uuid,
    input: RescheduleInput,
) -> Result<PickupView> {
    let txn = db.begin().await?;
    let p = own_pickup(&txn, who, id).await?;
    if input.slot_id == p.slot_id {
        return Err(Error::field(
            "slot_id",
            "unchanged",
            "that is the current slot",
        ));
    }
    let addr = crate::entities::address::Entity::find_by_id(p.address_id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound { what: "address" })?;
    let slot = bookable_slot(&txn, input.slot_id, &addr, rules).await?;
    let before = transition(
        &txn,
        Transition {
            pickup_id: id,
            from: &[Status::PendingDispatch, Status::Offered, Status::Accepted],
            to: Status::PendingDispatch,
            actor: Actor::of(who),
            reason: "rescheduled".into(),
            recycler: None,
            set: vec![
                (pickup::Column::SlotId, Expr::value(slot.id)),
                (
                    pickup::Column::RecyclerId,
                    Expr::value(Option::<Uuid>::None),
                ),
                (pickup::Column::ManualDispatch, Expr::value(false)),
            ],
        },
    )
    .await?;
    take_slot(&txn, slot.id, p.needs_van).await?;
    release_slot(&txn, p.slot_id, p.needs_van).await?;
    if let Some(r) = before.recycler_id {
        release_recycler_load(&txn, r, p.slot_id).await?;
    }
    let mut told = withdraw_offers(&txn, id, None).await?;
    told.extend(before.recycler_id);
    // Offers already declined for the old time may be welcome for the new one.
    offer::Entity::delete_many()
        .filter(offer::Column::PickupId.eq(id))
        .filter(offer::Column::Status.ne(offer::Status::Open))
        .exec(&txn)
        .await?;
    announce(&txn, id, Status::PendingDispatch, &told).await?;
    outbox::stage(&txn, DISPATCH, serde_json::json!({ "pickup_id": id }), None).await?;
    let v = view(&txn, reload(&txn, id).await?).await?;
    txn.commit().await?;
    Ok(v)
}
