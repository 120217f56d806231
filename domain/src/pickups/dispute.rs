//! A resident disputes the weights recorded at completion, within the dispute window; an
//! administrator resolves it (`points::admin::resolve_dispute`).

use chrono::Utc;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait, sea_query::Expr,
};
use uuid::Uuid;

use super::{
    complain::{TextInput, text_of},
    rules::Rules,
    status::Status,
    views::{PickupView, own_pickup, view},
};
use crate::{
    auth::Principal,
    entities::pickup::{self, DisputeState},
    error::{Error, Result},
};

/// Disputes the weights recorded at completion, within the dispute window (before or after
/// the points post: an administrator who upholds it reverses and re-posts them).
pub async fn dispute(
    db: &DatabaseConnection,
    who: &Principal,
    rules: Rules,
    id: Uuid,
    input: TextInput,
) -> Result<PickupView> {
    let text = text_of(&input)?;
    let txn = db.begin().await?;
    let p = own_pickup(&txn, who, id).await?;
    let in_window = p
        .completed_at
        .is_some_and(|c| Utc::now() <= c + rules.dispute_window);
    let weighed = [Status::Completed, Status::Settled];
    if !weighed.contains(&p.status) || !in_window {
        return Err(Error::conflict(
            "cannot_dispute",
            "weights can be disputed only after completion, within the dispute window",
        ));
    }
    let done = pickup::Entity::update_many()
        .col_expr(pickup::Column::Dispute, Expr::value(text))
        .col_expr(
            pickup::Column::DisputeState,
            Expr::value(DisputeState::Open),
        )
        .filter(pickup::Column::Id.eq(id))
        .filter(pickup::Column::Status.is_in(weighed))
        .filter(pickup::Column::DisputeState.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if done != 1 {
        return Err(Error::conflict(
            "cannot_dispute",
            "this pickup is already disputed",
        ));
    }
    crate::audit::record(
        &txn,
        Some(who.user_id),
        "pickup.dispute",
        "pickup",
        &id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    let p = own_pickup(&txn, who, id).await?;
    let v = view(&txn, p).await?;
    txn.commit().await?;
    Ok(v)
}
