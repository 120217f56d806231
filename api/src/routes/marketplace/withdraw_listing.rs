//! `POST /v1/market/listings/{id}/withdraw`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    marketplace::{ListingView, listings},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Withdraws the caller's listing.
#[utoipa::path(post, path = "/v1/market/listings/{id}/withdraw", tag = "marketplace", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "listing id"), ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 200, body = ListingView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or not the right party)", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict (see the code)", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn withdraw_listing(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let value = listings::withdraw(&platform.db, &auth.0, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(value))
}
