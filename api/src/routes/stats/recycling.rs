//! `GET /v1/stats/recycling`.

use actix_web::{HttpRequest, HttpResponse, web};
use wufei_domain::{
    Platform,
    stats::{self, RecyclingQuery, RecyclingStats},
};

use crate::{
    cache::public_json,
    problem::{ApiError, Problem},
};

/// Recyclables collected through Wufei (kg), items and points, grouped by any of category,
/// district, month and source over a period of months (Beijing time).
#[utoipa::path(get, path = "/v1/stats/recycling", tag = "disclosure",
    params(RecyclingQuery),
    responses(
    (status = 200, body = RecyclingStats, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "`If-None-Match` names the current ETag"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn recycling(
    req: HttpRequest,
    platform: web::Data<Platform>,
    query: web::Query<RecyclingQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(public_json(
        &req,
        &stats::recycling(&platform.db, &query).await?,
    ))
}
