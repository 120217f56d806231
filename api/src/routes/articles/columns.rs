//! `GET /v1/articles/columns`.

use actix_web::{HttpRequest, HttpResponse, web};
use wufei_domain::{
    Platform,
    disclosure::articles::columns::{self, ColumnQuery, ColumnView},
};

use crate::{
    cache::public_json,
    problem::{ApiError, Problem},
};

/// Each column's last update (city-wide by default, or one district's), as government
/// websites publish it.
#[utoipa::path(get, path = "/v1/articles/columns", tag = "disclosure",
    params(ColumnQuery),
    responses(
    (status = 200, body = Vec<ColumnView>, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "`If-None-Match` names the current ETag"),
    (status = 400, description = "malformed query", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn columns(
    req: HttpRequest,
    platform: web::Data<Platform>,
    query: web::Query<ColumnQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(public_json(
        &req,
        &columns::public(&platform.db, &query).await?,
    ))
}
