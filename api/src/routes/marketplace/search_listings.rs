//! `GET /v1/market/listings`.

use actix_web::{HttpResponse, web};
use wufei_domain::{Platform, marketplace::search};

use crate::problem::{ApiError, Problem};

/// Searches published listings: Chinese keywords, filters, distance, sort, facets. No sign-in needed.
#[utoipa::path(get, path = "/v1/market/listings", tag = "marketplace",
    params(search::SearchParams),
    responses(
    (status = 200, body = search::SearchPage),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "search unavailable (`search_unavailable`)", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn search_listings(
    platform: web::Data<Platform>,
    params: web::Query<search::SearchParams>,
) -> Result<HttpResponse, ApiError> {
    let value = search::search(&platform.db, platform.search.as_ref(), &params).await?;
    Ok(HttpResponse::Ok().json(value))
}
