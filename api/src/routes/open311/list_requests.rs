//! `GET /open311/v2/requests.json`.

use actix_web::{HttpRequest, HttpResponse, web};
use wufei_domain::{
    Platform,
    voice::open311::{self, Request, RequestQuery},
};

use crate::{
    cache::public_json,
    problem::{ApiError, Problem},
};

/// Published requests, newest first (at most 1000), by id, service code, date and status.
#[utoipa::path(get, path = "/open311/v2/requests.json", tag = "open311",
    params(RequestQuery),
    responses(
    (status = 200, body = Vec<Request>, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "`If-None-Match` names the current ETag"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn list_requests(
    req: HttpRequest,
    platform: web::Data<Platform>,
    query: web::Query<RequestQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(public_json(
        &req,
        &open311::list(&platform.db, &query).await?,
    ))
}
