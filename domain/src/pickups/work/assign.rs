//! Manual dispatch: an administrator or station manager gives a pickup to a recycler by
//! hand.

use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait, sea_query::Expr,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    auth::{Principal, Role},
    entities::{pickup, recycler, recycler_district},
    error::{Error, Result},
    pickups::{
        capacity::take_recycler_load, notices::announce, offers::withdraw_offers, status::Status,
        timeline::Actor, transition::Transition, transition::reload, transition::transition,
        views::PickupView, views::load_visible, views::view,
    },
};

/// Body of a manual assignment.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    /// The recycler to give the pickup to.
    pub recycler_id: Uuid,
}

/// An administrator or station manager of the pickup's district gives it to a recycler by
/// hand. The recycler must be approved, serve the district, have the right vehicle and
/// capacity left in the slot.
#[tracing::instrument(skip_all, fields(user_id = %who.user_id, pickup_id = %id))]
pub async fn assign_manually(
    db: &DatabaseConnection,
    who: &Principal,
    id: Uuid,
    input: AssignInput,
) -> Result<PickupView> {
    who.require_role(&[Role::Admin, Role::StationManager])?;
    let txn = db.begin().await?;
    let p = load_visible(&txn, who, id).await?;
    let r = recycler::Entity::find_by_id(input.recycler_id)
        .one(&txn)
        .await?
        .filter(|r| r.status == recycler::Status::Approved)
        .ok_or_else(|| Error::field("recycler_id", "unknown", "no such approved recycler"))?;
    let serves = recycler_district::Entity::find()
        .filter(recycler_district::Column::RecyclerId.eq(r.user_id))
        .filter(recycler_district::Column::DistrictCode.eq(p.district_code.as_str()))
        .one(&txn)
        .await?
        .is_some();
    if !serves {
        return Err(Error::field(
            "recycler_id",
            "wrong_district",
            "this recycler does not serve the pickup's district",
        ));
    }
    if p.needs_van && r.vehicle != recycler::Vehicle::Van {
        return Err(Error::field(
            "recycler_id",
            "needs_van",
            "this pickup needs a van",
        ));
    }
    transition(
        &txn,
        Transition {
            pickup_id: id,
            from: &[Status::PendingDispatch, Status::Offered],
            to: Status::Accepted,
            actor: Actor::of(who),
            reason: "dispatched by hand".into(),
            recycler: None,
            set: vec![
                (pickup::Column::RecyclerId, Expr::value(r.user_id)),
                (pickup::Column::ManualDispatch, Expr::value(false)),
            ],
        },
    )
    .await?;
    take_recycler_load(&txn, r.user_id, p.slot_id).await?;
    let withdrawn = withdraw_offers(&txn, id, None).await?;
    crate::audit::record(
        &txn,
        Some(who.user_id),
        "pickup.assign",
        "pickup",
        &id.to_string(),
        serde_json::json!({ "recycler_id": r.user_id }),
    )
    .await?;
    announce(&txn, id, Status::Accepted, &withdrawn).await?;
    let v = view(&txn, reload(&txn, id).await?).await?;
    txn.commit().await?;
    Ok(v)
}
