//! `POST /v1/notifications/{id}/read`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{Platform, notifications::inbox};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Marks one of the caller's notifications read (again is fine). Anyone else's answers 404.
#[utoipa::path(post, path = "/v1/notifications/{id}/read", tag = "notifications", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "notification id")),
    responses(
        (status = 204),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id, notification_id = %id))]
pub async fn read(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    inbox::mark_read(&platform.db, auth.0.user_id, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
