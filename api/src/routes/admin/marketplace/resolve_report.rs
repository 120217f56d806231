//! `POST /v1/admin/market/reports/{id}/resolve`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{Platform, marketplace::engagement};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Takes the reported listing down (every open report on it upheld) or dismisses the report.
#[utoipa::path(post, path = "/v1/admin/market/reports/{id}/resolve", tag = "admin", security(("bearer" = [])), request_body = engagement::Resolution,
    params(("id" = Uuid, Path, description = "report id"), ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 200, body = engagement::ReportView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or not the right party)", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict (see the code)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn resolve_report(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<engagement::Resolution>,
) -> Result<HttpResponse, ApiError> {
    let value =
        engagement::resolve(&platform.db, &auth.0, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(value))
}
