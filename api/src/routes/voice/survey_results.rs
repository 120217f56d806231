//! `GET /v1/surveys/satisfaction/results`.

use actix_web::{HttpRequest, HttpResponse, web};
use wufei_domain::{
    Platform,
    voice::satisfaction::{self, Results, ResultsQuery},
};

use crate::{
    cache::public_json,
    problem::{ApiError, Problem},
};

/// A quarter's satisfaction results: averages per dimension, city-wide and per district
/// (a group of fewer than 3 answers shows its count only).
#[utoipa::path(get, path = "/v1/surveys/satisfaction/results", tag = "disclosure",
    params(ResultsQuery),
    responses(
    (status = 200, body = Results, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "`If-None-Match` names the current ETag"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn survey_results(
    req: HttpRequest,
    platform: web::Data<Platform>,
    query: web::Query<ResultsQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(public_json(
        &req,
        &satisfaction::results(&platform.db, &query).await?,
    ))
}
