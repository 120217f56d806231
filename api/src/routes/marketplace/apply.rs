//! `POST /v1/merchant-applications`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    marketplace::{ApplicationView, merchants},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Applies to trade on the marketplace: company name, unified social credit code (check character verified), contact, district, address and a business-licence upload. Residents only; one pending application per account and per code.
#[utoipa::path(post, path = "/v1/merchant-applications", tag = "marketplace", security(("bearer" = [])), request_body = merchants::NewApplication,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 201, body = ApplicationView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or not the right party)", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict (see the code)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn apply(
    platform: web::Data<Platform>,
    auth: Auth,
    body: web::Json<merchants::NewApplication>,
) -> Result<HttpResponse, ApiError> {
    let value = merchants::apply(&platform.db, &auth.0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(value))
}
