//! `POST /v1/mall/fulfilments`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    mall::{
        RedemptionView,
        fulfilment::{self, FulfilInput},
    },
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Hands redeemed goods out by pickup code, once (station managers and administrators of
/// the item's district). Audited.
#[utoipa::path(post, path = "/v1/mall/fulfilments", tag = "mall", security(("bearer" = [])),
    request_body = FulfilInput,
    responses(
    (status = 200, body = RedemptionView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not a station manager or administrator", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "no such code in the caller's district", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`already_fulfilled` or `already_cancelled`", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn fulfil(
    platform: web::Data<Platform>,
    auth: Auth,
    body: web::Json<FulfilInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(
        HttpResponse::Ok()
            .json(fulfilment::fulfil(&platform.db, &auth.0, &body.pickup_code).await?),
    )
}
