//! `POST /v1/market/demands/{id}/close`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    marketplace::{DemandView, demands},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Closes the caller's open demand (fulfilled or no longer needed).
#[utoipa::path(post, path = "/v1/market/demands/{id}/close", tag = "marketplace", security(("bearer" = [])), request_body = demands::CloseDemand,
    params(("id" = Uuid, Path, description = "demand id"), ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 200, body = DemandView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or not the right party)", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict (see the code)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn close_demand(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<demands::CloseDemand>,
) -> Result<HttpResponse, ApiError> {
    let value = demands::close(&platform.db, &auth.0, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(value))
}
