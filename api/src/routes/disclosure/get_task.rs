//! `GET /v1/plan/tasks/{id}`.

use actix_web::{HttpRequest, HttpResponse, web};
use wufei_domain::{
    Platform,
    disclosure::tasks::{self, TaskView},
};

use crate::{
    cache::public_json,
    problem::{ApiError, Problem},
};

/// One task with its progress updates, newest first.
#[utoipa::path(get, path = "/v1/plan/tasks/{id}", tag = "disclosure",
    params(("id" = i32, Path, description = "task id (1–95)")),
    responses(
    (status = 200, body = TaskView, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "`If-None-Match` names the current ETag"),
    (status = 404, description = "no such task", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn get_task(
    req: HttpRequest,
    platform: web::Data<Platform>,
    id: web::Path<i32>,
) -> Result<HttpResponse, ApiError> {
    Ok(public_json(
        &req,
        &tasks::get(&platform.db, id.into_inner()).await?,
    ))
}
