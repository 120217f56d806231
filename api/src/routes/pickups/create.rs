//! `POST /v1/pickups`.

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};
use actix_web::{HttpResponse, web};
use wufei_domain::Platform;
use wufei_domain::pickups::{PickupView, booking::BookingInput};

/// Books a pickup into a slot. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/pickups", tag = "pickups", security(("bearer" = [])), request_body = BookingInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "replay protection")),
    responses(
    (status = 201, body = PickupView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn create(
    platform: web::Data<Platform>,
    auth: Auth,
    body: web::Json<BookingInput>,
) -> Result<HttpResponse, ApiError> {
    let booked = platform.book(&auth.0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(booked.view))
}
