//! `GET /v1/market/stats`.

use actix_web::{HttpResponse, web};
use wufei_domain::{Platform, marketplace::stats};

use crate::problem::{ApiError, Problem};

/// Supply, demand and completed deals by product type, district and month. No sign-in needed.
#[utoipa::path(get, path = "/v1/market/stats", tag = "marketplace",
    params(stats::StatsQuery),
    responses(
    (status = 200, body = stats::MarketStats),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn stats(
    platform: web::Data<Platform>,
    query: web::Query<stats::StatsQuery>,
) -> Result<HttpResponse, ApiError> {
    let value = stats::figures(&platform.db, &query).await?;
    Ok(HttpResponse::Ok().json(value))
}
