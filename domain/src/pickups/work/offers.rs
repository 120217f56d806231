//! Offers from the recycler's side: the open ones, accepting (exactly one recycler wins a
//! pickup: the pickup row is locked and moved by a conditional update, and the
//! recycler's slot capacity is taken by another), and declining.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::approved::approved_recycler;
use crate::{
    auth::Principal,
    entities::{offer, pickup},
    error::{Error, Result},
    pickups::{
        capacity::take_recycler_load,
        locks::lock_pickup,
        notices::announce,
        offers::{after_offer_closed, withdraw_offers},
        status::Status,
        timeline::Actor,
        transition::Transition,
        transition::reload,
        transition::transition,
        views::ItemView,
        views::PickupView,
        views::view,
    },
};

/// An open offer as the recycler sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OfferView {
    /// Offer id.
    pub id: Uuid,
    /// The pickup.
    pub pickup_id: Uuid,
    /// Answer before this instant.
    pub expires_at: DateTime<Utc>,
    /// District code.
    pub district_code: String,
    /// Where (GCJ-02).
    pub lat: f64,
    /// Where (GCJ-02).
    pub lng: f64,
    /// Slot start.
    pub slot_starts_at: Option<DateTime<Utc>>,
    /// Slot end.
    pub slot_ends_at: Option<DateTime<Utc>>,
    /// Whether a van is needed.
    pub needs_van: bool,
    /// The items with estimates.
    pub items: Vec<ItemView>,
}

/// The caller's open offers.
pub async fn open_offers(db: &impl ConnectionTrait, who: &Principal) -> Result<Vec<OfferView>> {
    approved_recycler(db, who).await?;
    let offers = offer::Entity::find()
        .filter(offer::Column::RecyclerId.eq(who.user_id))
        .filter(offer::Column::Status.eq(offer::Status::Open))
        .filter(offer::Column::ExpiresAt.gt(Utc::now()))
        .order_by_asc(offer::Column::ExpiresAt)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(offers.len());
    for o in offers {
        let Some(p) = pickup::Entity::find_by_id(o.pickup_id).one(db).await? else {
            continue;
        };
        let v = view(db, p).await?;
        out.push(OfferView {
            id: o.id,
            pickup_id: o.pickup_id,
            expires_at: o.expires_at,
            district_code: v.district_code,
            lat: v.address["lat"].as_f64().unwrap_or_default(),
            lng: v.address["lng"].as_f64().unwrap_or_default(),
            slot_starts_at: v.slot_starts_at,
            slot_ends_at: v.slot_ends_at,
            needs_van: v.needs_van,
            items: v.items,
        });
    }
    Ok(out)
}

/// Accepts an offer. 200 with the pickup, or 409 `pickup_taken` when someone else has it
/// (or the offer expired or was withdrawn), 409 `recycler_at_capacity` when the caller's
/// slot is full.
#[tracing::instrument(skip_all, fields(user_id = %who.user_id, offer_id = %offer_id))]
pub async fn accept(
    db: &DatabaseConnection,
    who: &Principal,
    offer_id: Uuid,
) -> Result<PickupView> {
    let txn = db.begin().await?;
    approved_recycler(&txn, who).await?;
    let o = offer::Entity::find_by_id(offer_id)
        .one(&txn)
        .await?
        .filter(|o| o.recycler_id == who.user_id)
        .ok_or(Error::NotFound { what: "offer" })?;
    let taken = || {
        Error::conflict(
            "pickup_taken",
            "this offer is no longer open; someone else has the pickup or it expired",
        )
    };
    if o.status != offer::Status::Open || o.expires_at <= Utc::now() {
        return Err(taken());
    }
    // The pickup is locked before any offer row is touched, on every path (accept,
    // reject, timeouts, cancel): concurrent accepts queue on one row instead of
    // deadlocking on each other's offers.
    let moved = transition(
        &txn,
        Transition {
            pickup_id: o.pickup_id,
            from: &[Status::Offered],
            to: Status::Accepted,
            actor: Actor::of(who),
            reason: "offer accepted".into(),
            recycler: None,
            set: vec![
                (pickup::Column::RecyclerId, Expr::value(who.user_id)),
                (pickup::Column::ManualDispatch, Expr::value(false)),
            ],
        },
    )
    .await;
    let before = match moved {
        Ok(b) => b,
        Err(Error::Conflict { .. }) => return Err(taken()),
        Err(e) => return Err(e),
    };
    let closed = offer::Entity::update_many()
        .col_expr(offer::Column::Status, Expr::value(offer::Status::Accepted))
        .col_expr(offer::Column::RespondedAt, Expr::value(Utc::now()))
        .filter(offer::Column::Id.eq(offer_id))
        .filter(offer::Column::Status.eq(offer::Status::Open))
        .exec(&txn)
        .await?
        .rows_affected;
    if closed != 1 {
        return Err(taken());
    }
    take_recycler_load(&txn, who.user_id, before.slot_id).await?;
    let withdrawn = withdraw_offers(&txn, o.pickup_id, Some(offer_id)).await?;
    announce(&txn, o.pickup_id, Status::Accepted, &withdrawn).await?;
    let v = view(&txn, reload(&txn, o.pickup_id).await?).await?;
    txn.commit().await?;
    Ok(v)
}

/// Body of reject.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectInput {
    /// Why (too far, vehicle full …).
    pub reason: Option<String>,
}

/// Declines an offer; the pickup goes on to the next candidate at once.
pub async fn reject(
    db: &DatabaseConnection,
    who: &Principal,
    offer_id: Uuid,
    input: RejectInput,
) -> Result<()> {
    let txn = db.begin().await?;
    approved_recycler(&txn, who).await?;
    let o = offer::Entity::find_by_id(offer_id)
        .one(&txn)
        .await?
        .filter(|o| o.recycler_id == who.user_id)
        .ok_or(Error::NotFound { what: "offer" })?;
    lock_pickup(&txn, o.pickup_id).await?;
    let reason = input
        .reason
        .map(|r| r.chars().take(200).collect::<String>());
    let closed = offer::Entity::update_many()
        .col_expr(offer::Column::Status, Expr::value(offer::Status::Rejected))
        .col_expr(offer::Column::Reason, Expr::value(reason))
        .col_expr(offer::Column::RespondedAt, Expr::value(Utc::now()))
        .filter(offer::Column::Id.eq(offer_id))
        .filter(offer::Column::Status.eq(offer::Status::Open))
        .exec(&txn)
        .await?
        .rows_affected;
    if closed != 1 {
        return Err(Error::conflict(
            "offer_not_open",
            "this offer is no longer open",
        ));
    }
    after_offer_closed(&txn, o.pickup_id).await?;
    txn.commit().await?;
    Ok(())
}
