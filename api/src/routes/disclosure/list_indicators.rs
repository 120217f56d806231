//! `GET /v1/indicators`.

use actix_web::{HttpRequest, HttpResponse, web};
use wufei_domain::{
    Platform,
    disclosure::indicators::{self, IndicatorFilter, IndicatorView},
};

use crate::{
    cache::public_json,
    problem::{ApiError, Problem},
};

/// The plan's indicators in its order: target, latest value and progress. `reported` ones
/// are entered by the city; `wufei` ones are computed from Wufei's own ledgers. The plan
/// states 49 indicators without listing them; these are the targets its text names.
#[utoipa::path(get, path = "/v1/indicators", tag = "disclosure",
    params(IndicatorFilter),
    responses(
    (status = 200, body = Vec<IndicatorView>, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "`If-None-Match` names the current ETag"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn list_indicators(
    req: HttpRequest,
    platform: web::Data<Platform>,
    filter: web::Query<IndicatorFilter>,
) -> Result<HttpResponse, ApiError> {
    Ok(public_json(
        &req,
        &indicators::list(&platform.db, &filter).await?,
    ))
}
