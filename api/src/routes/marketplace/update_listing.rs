//! `PATCH /v1/market/listings/{id}`.

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

/// Edits the caller's listing: price, stock and minimum order at once; anything else sends a published listing back to review (`review_required`).
#[utoipa::path(patch, path = "/v1/market/listings/{id}", tag = "marketplace", security(("bearer" = [])), request_body = listings::ListingPatch,
    params(("id" = Uuid, Path, description = "listing id")),
    responses(
    (status = 200, body = ListingView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or not the right party)", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict (see the code)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn update_listing(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<listings::ListingPatch>,
) -> Result<HttpResponse, ApiError> {
    let value = listings::update(&platform.db, &auth.0, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(value))
}
