//! `GET /v1/indicators/{code}`.

use actix_web::{HttpRequest, HttpResponse, web};
use wufei_domain::{
    Platform,
    disclosure::indicators::{self, IndicatorView},
};

use crate::{
    cache::public_json,
    problem::{ApiError, Problem},
};

/// One indicator with its yearly series.
#[utoipa::path(get, path = "/v1/indicators/{code}", tag = "disclosure",
    params(("code" = String, Path, description = "indicator code")),
    responses(
    (status = 200, body = IndicatorView, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "`If-None-Match` names the current ETag"),
    (status = 404, description = "no such indicator", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn get_indicator(
    req: HttpRequest,
    platform: web::Data<Platform>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(public_json(
        &req,
        &indicators::get(&platform.db, &code).await?,
    ))
}
