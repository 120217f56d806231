//! `GET /v1/plan/tasks`.

use actix_web::{HttpRequest, HttpResponse, web};
use wufei_domain::{
    Platform,
    disclosure::tasks::{self, TaskFilter, TaskView},
};

use crate::{
    cache::public_json,
    problem::{ApiError, Problem},
};

/// The plan's task board, filtered by section, lead unit and status.
#[utoipa::path(get, path = "/v1/plan/tasks", tag = "disclosure",
    params(TaskFilter),
    responses(
    (status = 200, body = Vec<TaskView>, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "`If-None-Match` names the current ETag"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn list_tasks(
    req: HttpRequest,
    platform: web::Data<Platform>,
    filter: web::Query<TaskFilter>,
) -> Result<HttpResponse, ApiError> {
    Ok(public_json(
        &req,
        &tasks::list(&platform.db, &filter).await?,
    ))
}
