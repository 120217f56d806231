//! `GET /v1/market/listings/{id}`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    marketplace::{ListingView, listings},
};

use crate::{
    extract::MaybeAuth,
    problem::{ApiError, Problem},
};

/// One listing: published ones for anyone; others for their merchant and administrators only.
#[utoipa::path(get, path = "/v1/market/listings/{id}", tag = "marketplace", security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "listing id")),
    responses(
    (status = 200, body = ListingView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn get_listing(
    platform: web::Data<Platform>,
    auth: MaybeAuth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let value = listings::get(&platform.db, auth.0.as_ref(), id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(value))
}
