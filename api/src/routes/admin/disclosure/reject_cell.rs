//! `POST /v1/admin/cell-applications/{id}/reject`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    disclosure::cells::{self, CellView, Decision},
    marketplace::Reason,
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Refuses a pending application with a reason the applicant sees. Audited.
#[utoipa::path(post, path = "/v1/admin/cell-applications/{id}/reject", tag = "admin", security(("bearer" = [])), request_body = Reason,
    params(("id" = Uuid, Path, description = "cell id"), ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 200, body = CellView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or district)", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict (see the code)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn reject_cell(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> Result<HttpResponse, ApiError> {
    let value = cells::decide(
        &platform.db,
        &auth.0,
        id.into_inner(),
        Decision::Reject,
        Some(&body.reason),
    )
    .await?;
    Ok(HttpResponse::Ok().json(value))
}
