//! `POST /v1/market/listings/{id}/reports`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{Platform, marketplace::engagement};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Reports a bad listing to the administrators.
#[utoipa::path(post, path = "/v1/market/listings/{id}/reports", tag = "marketplace", security(("bearer" = [])), request_body = engagement::NewReport,
    params(("id" = Uuid, Path, description = "listing id"), ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 201, body = engagement::ReportView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict (see the code)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn report(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<engagement::NewReport>,
) -> Result<HttpResponse, ApiError> {
    let value =
        engagement::report(&platform.db, &auth.0, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(value))
}
