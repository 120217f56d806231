//! `POST /v1/market/listings/{id}/submit`.

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

/// Submits a draft (or a rejected or withdrawn listing) for review.
#[utoipa::path(post, path = "/v1/market/listings/{id}/submit", tag = "marketplace", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "listing id"), ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 200, body = ListingView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or not the right party)", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict (see the code)", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn submit_listing(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let value = listings::submit(&platform.db, &auth.0, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(value))
}
