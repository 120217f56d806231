//! A resident complains about the recycler of their pickup, once; the complaint counts
//! against the recycler's score in dispatch. Also the text body complaints and disputes
//! share.

use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use serde::Deserialize;
use uuid::Uuid;

use super::views::{PickupView, own_pickup, view};
use crate::{
    auth::Principal,
    entities::{pickup, recycler},
    error::{Error, Result},
};

/// Body of complaint and dispute.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextInput {
    /// What happened, 1 to 500 characters.
    pub text: String,
}

pub(crate) fn text_of(input: &TextInput) -> Result<String> {
    let t = input.text.trim();
    let n = t.chars().count();
    if n == 0 || n > 500 {
        return Err(Error::field(
            "text",
            "invalid_length",
            "must be 1 to 500 characters",
        ));
    }
    Ok(t.to_string())
}

/// Complains about the recycler of a pickup (once); counts against the recycler's score.
pub async fn complain(
    db: &DatabaseConnection,
    who: &Principal,
    id: Uuid,
    input: TextInput,
) -> Result<PickupView> {
    let text = text_of(&input)?;
    let txn = db.begin().await?;
    let p = own_pickup(&txn, who, id).await?;
    let Some(r) = p.recycler_id else {
        return Err(Error::conflict(
            "cannot_complain",
            "no recycler has handled this pickup",
        ));
    };
    let done = pickup::Entity::update_many()
        .col_expr(pickup::Column::Complaint, Expr::value(text))
        .filter(pickup::Column::Id.eq(id))
        .filter(pickup::Column::Complaint.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if done != 1 {
        return Err(Error::conflict(
            "cannot_complain",
            "a complaint about this pickup was already made",
        ));
    }
    recycler::Entity::update_many()
        .col_expr(
            recycler::Column::Complaints,
            Expr::col(recycler::Column::Complaints).add(1),
        )
        .filter(recycler::Column::UserId.eq(r))
        .exec(&txn)
        .await?;
    crate::audit::record(
        &txn,
        Some(who.user_id),
        "pickup.complaint",
        "pickup",
        &id.to_string(),
        serde_json::json!({ "recycler_id": r }),
    )
    .await?;
    let p = own_pickup(&txn, who, id).await?;
    let v = view(&txn, p).await?;
    txn.commit().await?;
    Ok(v)
}
