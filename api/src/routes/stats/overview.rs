//! `GET /v1/stats/overview`.

use actix_web::{HttpRequest, HttpResponse, web};
use wufei_domain::{
    Platform,
    stats::{self, Overview},
};

use crate::{cache::public_json, problem::ApiError};

/// The headline figures: tonnage and households this month, this year and in all, points
/// this year, published cells, facilities, and the marketplace.
#[utoipa::path(get, path = "/v1/stats/overview", tag = "disclosure",
    responses(
    (status = 200, body = Overview, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "`If-None-Match` names the current ETag")))]
#[tracing::instrument(skip_all)]
pub async fn overview(
    req: HttpRequest,
    platform: web::Data<Platform>,
) -> Result<HttpResponse, ApiError> {
    Ok(public_json(&req, &stats::overview(&platform.db).await?))
}
