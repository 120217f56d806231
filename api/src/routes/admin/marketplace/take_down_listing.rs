//! `POST /v1/admin/market/listings/{id}/take-down`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    marketplace::{ListingView, Reason, listings},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Takes a published listing down with a reason the merchant sees.
#[utoipa::path(post, path = "/v1/admin/market/listings/{id}/take-down", tag = "admin", security(("bearer" = [])), request_body = Reason,
    params(("id" = Uuid, Path, description = "listing id"), ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 200, body = ListingView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or not the right party)", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict (see the code)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn take_down_listing(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> Result<HttpResponse, ApiError> {
    let value = listings::decide(
        &platform.db,
        &auth.0,
        id.into_inner(),
        listings::Decision::TakeDown,
        Some(&body.reason),
    )
    .await?;
    Ok(HttpResponse::Ok().json(value))
}
