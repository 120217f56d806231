//! Offers as the pickup's lifecycle sees them: withdrawing the open ones when someone
//! else has the pickup or it is over, expiring a round's, and sending a pickup whose
//! offers are all closed back to dispatch. Making offers is dispatch's.

use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, sea_query::Expr,
};
use uuid::Uuid;

use super::{
    status::Status,
    timeline::Actor,
    topics::DISPATCH,
    transition::{Transition, transition},
};
use crate::{
    entities::{offer, pickup},
    error::Result,
    jobs::outbox,
};

/// Withdraws every open offer of a pickup; returns the recyclers whose offers were withdrawn.
pub(crate) async fn withdraw_offers(
    txn: &impl ConnectionTrait,
    pickup_id: Uuid,
    except: Option<Uuid>,
) -> Result<Vec<Uuid>> {
    let mut open = offer::Entity::find()
        .filter(offer::Column::PickupId.eq(pickup_id))
        .filter(offer::Column::Status.eq(offer::Status::Open));
    if let Some(e) = except {
        open = open.filter(offer::Column::Id.ne(e));
    }
    let open = open.all(txn).await?;
    if !open.is_empty() {
        offer::Entity::update_many()
            .col_expr(offer::Column::Status, Expr::value(offer::Status::Withdrawn))
            .col_expr(offer::Column::RespondedAt, Expr::value(Utc::now()))
            .filter(offer::Column::Id.is_in(open.iter().map(|o| o.id)))
            .filter(offer::Column::Status.eq(offer::Status::Open))
            .exec(txn)
            .await?;
    }
    Ok(open.into_iter().map(|o| o.recycler_id).collect())
}

/// Withdraws every open offer of a pickup; returns the recyclers told.
pub(crate) async fn withdraw_offers_of(
    txn: &impl ConnectionTrait,
    pickup_id: Uuid,
) -> Result<Vec<Uuid>> {
    withdraw_offers(txn, pickup_id, None).await
}

/// Expires the offers of round `round` of a pickup still open; returns their recyclers.
pub(crate) async fn expire_round(
    txn: &impl ConnectionTrait,
    pickup_id: Uuid,
    round: i32,
) -> Result<Vec<Uuid>> {
    let expired: Vec<Uuid> = offer::Entity::find()
        .filter(offer::Column::PickupId.eq(pickup_id))
        .filter(offer::Column::Round.eq(round))
        .filter(offer::Column::Status.eq(offer::Status::Open))
        .all(txn)
        .await?
        .into_iter()
        .map(|o| o.recycler_id)
        .collect();
    if !expired.is_empty() {
        offer::Entity::update_many()
            .col_expr(offer::Column::Status, Expr::value(offer::Status::Expired))
            .col_expr(offer::Column::RespondedAt, Expr::value(Utc::now()))
            .filter(offer::Column::PickupId.eq(pickup_id))
            .filter(offer::Column::Round.eq(round))
            .filter(offer::Column::Status.eq(offer::Status::Open))
            .exec(txn)
            .await?;
    }
    Ok(expired)
}

/// After an offer was declined or expired: when the pickup is still offered and no offer
/// is open any more, it goes back to pending and the next round is dispatched.
pub async fn after_offer_closed(txn: &impl ConnectionTrait, pickup_id: Uuid) -> Result<()> {
    let open = offer::Entity::find()
        .filter(offer::Column::PickupId.eq(pickup_id))
        .filter(offer::Column::Status.eq(offer::Status::Open))
        .count(txn)
        .await?;
    let Some(p) = pickup::Entity::find_by_id(pickup_id).one(txn).await? else {
        return Ok(());
    };
    if open > 0 || p.status != Status::Offered {
        return Ok(());
    }
    transition(
        txn,
        Transition {
            pickup_id,
            from: &[Status::Offered],
            to: Status::PendingDispatch,
            actor: Actor::SYSTEM,
            reason: "no recycler accepted; trying the next".into(),
            recycler: None,
            set: vec![],
        },
    )
    .await?;
    outbox::stage(
        txn,
        DISPATCH,
        serde_json::json!({ "pickup_id": pickup_id }),
        None,
    )
    .await?;
    Ok(())
}
