//! `GET /v1/market/my/favourites`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    marketplace::{ListingSummary, engagement},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// The caller's favourite listings still published.
#[utoipa::path(get, path = "/v1/market/my/favourites", tag = "marketplace", security(("bearer" = [])),
    responses(
    (status = 200, body = Vec<ListingSummary>),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn my_favourites(
    platform: web::Data<Platform>,
    auth: Auth,
) -> Result<HttpResponse, ApiError> {
    let value = engagement::favourites(&platform.db, &auth.0).await?;
    Ok(HttpResponse::Ok().json(value))
}
