//! `POST /v1/market/listings`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    marketplace::{ListingView, listings},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Creates a listing as a draft. Verified merchants only.
#[utoipa::path(post, path = "/v1/market/listings", tag = "marketplace", security(("bearer" = [])), request_body = listings::NewListing,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 201, body = ListingView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or not the right party)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn create_listing(
    platform: web::Data<Platform>,
    auth: Auth,
    body: web::Json<listings::NewListing>,
) -> Result<HttpResponse, ApiError> {
    let value = listings::create(&platform.db, &auth.0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(value))
}
