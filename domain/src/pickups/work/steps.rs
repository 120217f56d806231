//! The recycler's way to the door: on the way, at the door, and nobody answered (with
//! photo proof).

use sea_orm::{DatabaseConnection, TransactionTrait, sea_query::Expr};
use serde::Deserialize;
use uuid::Uuid;

use super::approved::approved_recycler;
use crate::{
    auth::Principal,
    entities::pickup,
    error::Result,
    pickups::{
        booking::checks::validate_photos, notices::announce, status::Status, timeline::Actor,
        transition::Transition, transition::reload, transition::transition, views::PickupView,
        views::view,
    },
};

async fn step(
    db: &DatabaseConnection,
    who: &Principal,
    id: Uuid,
    from: Status,
    to: Status,
    reason: &str,
) -> Result<PickupView> {
    let txn = db.begin().await?;
    approved_recycler(&txn, who).await?;
    transition(
        &txn,
        Transition {
            pickup_id: id,
            from: &[from],
            to,
            actor: Actor::of(who),
            reason: reason.into(),
            recycler: Some(who.user_id),
            set: vec![],
        },
    )
    .await?;
    announce(&txn, id, to, &[]).await?;
    let v = view(&txn, reload(&txn, id).await?).await?;
    txn.commit().await?;
    Ok(v)
}

/// On the way.
pub async fn depart(db: &DatabaseConnection, who: &Principal, id: Uuid) -> Result<PickupView> {
    step(db, who, id, Status::Accepted, Status::EnRoute, "on the way").await
}

/// At the door.
pub async fn arrive(db: &DatabaseConnection, who: &Principal, id: Uuid) -> Result<PickupView> {
    step(db, who, id, Status::EnRoute, Status::Arrived, "at the door").await
}

/// Body of no-show.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoShowInput {
    /// Proof: photos (purpose `pickup_photo`) of the door, the building …, at least one.
    pub photo_ids: Vec<Uuid>,
    /// What happened.
    pub reason: Option<String>,
}

/// Nobody answered: needs photo proof.
pub async fn no_show(
    db: &DatabaseConnection,
    who: &Principal,
    id: Uuid,
    input: NoShowInput,
) -> Result<PickupView> {
    let txn = db.begin().await?;
    approved_recycler(&txn, who).await?;
    validate_photos(&txn, who.user_id, &input.photo_ids, "photo_ids", 1).await?;
    transition(
        &txn,
        Transition {
            pickup_id: id,
            from: &[Status::Arrived],
            to: Status::NoShow,
            actor: Actor::of(who),
            reason: input
                .reason
                .unwrap_or_else(|| "nobody answered".into())
                .chars()
                .take(200)
                .collect(),
            recycler: Some(who.user_id),
            set: vec![(
                pickup::Column::CompletionPhotoIds,
                Expr::value(
                    serde_json::to_string(&input.photo_ids).unwrap_or_else(|_| "[]".into()),
                ),
            )],
        },
    )
    .await?;
    announce(&txn, id, Status::NoShow, &[]).await?;
    let v = view(&txn, reload(&txn, id).await?).await?;
    txn.commit().await?;
    Ok(v)
}
