//! A resident rates the recycler of their completed pickup, once.

use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    status::Status,
    views::{PickupView, own_pickup, view},
};
use crate::{
    auth::Principal,
    entities::{pickup, recycler},
    error::{Error, Result},
};

/// Body of rating.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingInput {
    /// 1 to 5.
    pub stars: i16,
    /// Optional comment, up to 200 characters.
    pub comment: Option<String>,
}

/// Rates the recycler of a completed pickup, once.
pub async fn rate(
    db: &DatabaseConnection,
    who: &Principal,
    id: Uuid,
    input: RatingInput,
) -> Result<PickupView> {
    if !(1..=5).contains(&input.stars) {
        return Err(Error::field("stars", "out_of_range", "must be 1 to 5"));
    }
    let comment = input
        .comment
        .map(|c| c.chars().take(200).collect::<String>());
    let txn = db.begin().await?;
    let p = own_pickup(&txn, who, id).await?;
    let rated = pickup::Entity::update_many()
        .col_expr(pickup::Column::Rating, Expr::value(input.stars))
        .col_expr(pickup::Column::RatingComment, Expr::value(comment))
        .filter(pickup::Column::Id.eq(id))
        .filter(pickup::Column::Rating.is_null())
        .filter(pickup::Column::Status.is_in([Status::Completed, Status::Settled]))
        .exec(&txn)
        .await?
        .rows_affected;
    if rated != 1 {
        return Err(Error::conflict(
            "cannot_rate",
            "only a completed pickup can be rated, and only once",
        ));
    }
    if let Some(r) = p.recycler_id {
        recycler::Entity::update_many()
            .col_expr(
                recycler::Column::RatingSum,
                Expr::col(recycler::Column::RatingSum).add(i32::from(input.stars)),
            )
            .col_expr(
                recycler::Column::RatingCount,
                Expr::col(recycler::Column::RatingCount).add(1),
            )
            .filter(recycler::Column::UserId.eq(r))
            .exec(&txn)
            .await?;
    }
    let p = own_pickup(&txn, who, id).await?;
    let v = view(&txn, p).await?;
    txn.commit().await?;
    Ok(v)
}
