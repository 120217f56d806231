//! `POST /v1/admin/plan/tasks/{id}/updates`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    disclosure::tasks::{self, NewUpdate, TaskView},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Posts a progress update of a task; the task takes its status. City-wide administrators;
/// audited.
#[utoipa::path(post, path = "/v1/admin/plan/tasks/{id}/updates", tag = "admin", security(("bearer" = [])),
    request_body = NewUpdate,
    params(("id" = i32, Path, description = "task id"),
        ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 201, body = TaskView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not a city-wide administrator", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "no such task", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn update_task(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<i32>,
    body: web::Json<NewUpdate>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created()
        .json(tasks::post_update(&platform.db, &auth.0, id.into_inner(), body.into_inner()).await?))
}
