//! Completion with the weigh ticket: actual weights and photos recorded, and the event
//! settlement consumes staged in the same transaction.

use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
    sea_query::Expr,
};
use serde::Deserialize;
use uuid::Uuid;

use super::approved::approved_recycler;
use crate::{
    auth::Principal,
    entities::{pickup, pickup_item},
    error::{Error, Result},
    jobs::outbox,
    pickups::{
        booking::{
            ItemInput,
            checks::{validate_items, validate_photos},
        },
        notices::announce,
        status::Status,
        timeline::Actor,
        topics::COMPLETED,
        transition::Transition,
        transition::reload,
        transition::transition,
        views::PickupView,
        views::view,
    },
};

/// One weighed or counted item.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeighedItem {
    /// Category id.
    pub category_id: Uuid,
    /// Weight in grams (categories by the kg).
    pub weight_g: Option<i32>,
    /// Count (categories by the piece).
    pub count: Option<i32>,
}

/// Body of complete: the weigh ticket.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteInput {
    /// What was collected, one entry per category.
    pub items: Vec<WeighedItem>,
    /// Photos (purpose `pickup_photo`) of the items and of the scale's reading: at least two.
    pub photo_ids: Vec<Uuid>,
}

/// Records actual weights and photos and completes the pickup; stages `pickup.completed`
/// for settlement in the same transaction.
#[tracing::instrument(skip_all, fields(user_id = %who.user_id, pickup_id = %id))]
pub async fn complete(
    db: &DatabaseConnection,
    who: &Principal,
    id: Uuid,
    input: CompleteInput,
) -> Result<PickupView> {
    let txn = db.begin().await?;
    approved_recycler(&txn, who).await?;
    validate_weighed(&txn, &input.items).await?;
    validate_photos(&txn, who.user_id, &input.photo_ids, "photo_ids", 2).await?;
    let now = Utc::now();
    transition(
        &txn,
        Transition {
            pickup_id: id,
            from: &[Status::Arrived],
            to: Status::Completed,
            actor: Actor::of(who),
            reason: "weighed and collected".into(),
            recycler: Some(who.user_id),
            set: vec![
                (pickup::Column::CompletedAt, Expr::value(now)),
                (
                    pickup::Column::CompletionPhotoIds,
                    Expr::value(
                        serde_json::to_string(&input.photo_ids).unwrap_or_else(|_| "[]".into()),
                    ),
                ),
            ],
        },
    )
    .await?;
    record_weighed(&txn, id, &input.items).await?;
    outbox::stage(
        &txn,
        COMPLETED,
        serde_json::json!({ "pickup_id": id }),
        None,
    )
    .await?;
    announce(&txn, id, Status::Completed, &[]).await?;
    let v = view(&txn, reload(&txn, id).await?).await?;
    txn.commit().await?;
    Ok(v)
}

/// Validates a weigh ticket's items (the booking rules, with `weight_g`/`count` names).
pub(crate) async fn validate_weighed(
    txn: &impl ConnectionTrait,
    items: &[WeighedItem],
) -> Result<()> {
    let as_items: Vec<ItemInput> = items
        .iter()
        .map(|i| ItemInput {
            category_id: i.category_id,
            estimated_weight_g: i.weight_g,
            estimated_count: i.count,
        })
        .collect();
    validate_items(txn, &as_items, "weight_g")
        .await
        .map_err(|e| match e {
            Error::Validation { message, fields } => Error::Validation {
                message,
                fields: fields
                    .into_iter()
                    .map(|mut f| {
                        f.field = f.field.replace("estimated_count", "count");
                        f
                    })
                    .collect(),
            },
            other => other,
        })?;
    Ok(())
}

/// Records a weigh ticket's actual amounts on the pickup's items.
pub(crate) async fn record_weighed(
    txn: &impl ConnectionTrait,
    id: Uuid,
    items: &[WeighedItem],
) -> Result<()> {
    // The weigh ticket replaces the estimates' actual columns: categories not collected
    // keep their estimate with no actual amount; new ones are added.
    for item in items {
        let updated = pickup_item::Entity::update_many()
            .col_expr(
                pickup_item::Column::ActualWeightG,
                Expr::value(item.weight_g),
            )
            .col_expr(pickup_item::Column::ActualCount, Expr::value(item.count))
            .filter(pickup_item::Column::PickupId.eq(id))
            .filter(pickup_item::Column::CategoryId.eq(item.category_id))
            .exec(txn)
            .await?
            .rows_affected;
        if updated == 0 {
            use sea_orm::{ActiveModelTrait, Set};
            pickup_item::ActiveModel {
                id: Set(Uuid::now_v7()),
                pickup_id: Set(id),
                category_id: Set(item.category_id),
                estimated_weight_g: Set(None),
                estimated_count: Set(None),
                actual_weight_g: Set(item.weight_g),
                actual_count: Set(item.count),
            }
            .insert(txn)
            .await?;
        }
    }
    Ok(())
}
