//! `POST /v1/admin/cell-applications/{id}/approve`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    disclosure::cells::{self, CellView, Decision},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Publishes a pending application: the badge shows on the public list and counts towards
/// the targets. The applicant is told; audited.
#[utoipa::path(post, path = "/v1/admin/cell-applications/{id}/approve", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "cell id"), ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 200, body = CellView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or district)", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict (see the code)", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn approve_cell(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let value = cells::decide(
        &platform.db,
        &auth.0,
        id.into_inner(),
        Decision::Publish,
        None,
    )
    .await?;
    Ok(HttpResponse::Ok().json(value))
}
