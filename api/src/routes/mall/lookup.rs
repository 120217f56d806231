//! `GET /v1/mall/fulfilments/{pickup_code}`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    mall::{RedemptionView, fulfilment},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Looks a pickup code up (station managers and administrators of the item's district).
#[utoipa::path(get, path = "/v1/mall/fulfilments/{pickup_code}", tag = "mall", security(("bearer" = [])),
    params(("pickup_code" = String, Path, description = "the 8-digit code the resident shows")),
    responses(
    (status = 200, body = RedemptionView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not a station manager or administrator", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "no such code in the caller's district", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn lookup(
    platform: web::Data<Platform>,
    auth: Auth,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(fulfilment::lookup(&platform.db, &auth.0, &code).await?))
}
