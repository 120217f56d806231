//! Handing redeemed items out at a station: a station manager or administrator of the
//! item's district (any of them for a city-wide item, super administrators everywhere)
//! looks the resident's pickup code up and marks it fulfilled. A code is used once: the
//! status moves from `reserved` by a conditional update. Anyone else learns nothing about a
//! code (404), so codes cannot be probed across districts.

use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession, TransactionTrait,
    sea_query::Expr,
};

use super::{RedemptionView, Status, redemption_view, redemptions};
use crate::{
    audit,
    auth::{Principal, Role},
    entities::{mall_item, mall_redemption},
    error::{Error, Result},
};

fn not_found() -> Error {
    Error::NotFound {
        what: "pickup code",
    }
}

/// The redemption behind `code` and its item, if the caller may hand it out.
async fn find(
    db: &impl ConnectionTrait,
    who: &Principal,
    code: &str,
) -> Result<(mall_redemption::Model, mall_item::Model)> {
    who.require_role(&[Role::StationManager, Role::Admin])?;
    if code.len() != 8 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_found());
    }
    let r = mall_redemption::Entity::find()
        .filter(mall_redemption::Column::PickupCode.eq(code))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let item = redemptions::item_of(db, &r).await?;
    let allowed = match &item.district_code {
        Some(d) => who.may_administer_district(d),
        None => who.is_super_admin() || who.district_code.is_some(),
    };
    if allowed {
        Ok((r, item))
    } else {
        Err(not_found())
    }
}

/// Looks a pickup code up (any status, so a station sees that it was already used).
#[tracing::instrument(skip(db, who, code), fields(user_id = %who.user_id))]
pub async fn lookup(
    db: &impl ConnectionTrait,
    who: &Principal,
    code: &str,
) -> Result<RedemptionView> {
    let (r, item) = find(db, who, code).await?;
    Ok(redemption_view(r, &item))
}

/// Hands the goods out: `reserved` → `fulfilled`, once. Audited. 409 `already_fulfilled` or
/// `already_cancelled` otherwise.
#[tracing::instrument(skip(db, who, code), fields(user_id = %who.user_id))]
pub async fn fulfil(
    db: &impl TransactionTrait,
    who: &Principal,
    code: &str,
) -> Result<RedemptionView> {
    let txn = db.begin().await?;
    let (r, item) = find(&txn, who, code).await?;
    let now = Utc::now();
    let moved = mall_redemption::Entity::update_many()
        .col_expr(
            mall_redemption::Column::Status,
            Expr::value(Status::Fulfilled),
        )
        .col_expr(mall_redemption::Column::FulfilledAt, Expr::value(now))
        .col_expr(
            mall_redemption::Column::FulfilledBy,
            Expr::value(who.user_id),
        )
        .filter(mall_redemption::Column::Id.eq(r.id))
        .filter(mall_redemption::Column::Status.eq(Status::Reserved))
        .exec(&txn)
        .await?
        .rows_affected;
    if moved == 0 {
        let now_status = mall_redemption::Entity::find_by_id(r.id)
            .one(&txn)
            .await?
            .map(|r| r.status)
            .unwrap_or(r.status);
        return Err(redemptions::not_reserved(now_status.as_str(), "handed out"));
    }
    audit::record(
        &txn,
        Some(who.user_id),
        "mall_redemption.fulfil",
        "mall_redemption",
        &r.id.to_string(),
        serde_json::json!({ "item_id": item.id, "quantity": r.quantity, "user_id": r.user_id }),
    )
    .await?;
    txn.commit().await?;
    Ok(redemption_view(
        mall_redemption::Model {
            status: Status::Fulfilled,
            fulfilled_at: Some(now),
            fulfilled_by: Some(who.user_id),
            ..r
        },
        &item,
    ))
}

/// Body of a fulfilment.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FulfilInput {
    /// The 8-digit code the resident shows.
    pub pickup_code: String,
}
