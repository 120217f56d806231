//! `POST /v1/mall/redemptions`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform, ledger,
    mall::{
        RedemptionView,
        redemptions::{self, RedeemInput},
    },
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Redeems points for an item: stock, per-person limit and points taken in one
/// transaction; answers the pickup code. Honours `Idempotency-Key` (a replay debits once).
#[utoipa::path(post, path = "/v1/mall/redemptions", tag = "mall", security(("bearer" = [])),
    request_body = RedeemInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 201, body = RedemptionView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not a resident", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "no such item", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`not_on_sale`, `out_of_stock`, `limit_reached`, `insufficient_points`, or the same key still running", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input, or the key reused with another body", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn redeem(
    platform: web::Data<Platform>,
    auth: Auth,
    body: web::Json<RedeemInput>,
) -> Result<HttpResponse, ApiError> {
    let rules = ledger::Rules::from_settings(&platform.settings);
    Ok(HttpResponse::Created()
        .json(redemptions::redeem(&platform.db, &rules, &auth.0, body.into_inner()).await?))
}
