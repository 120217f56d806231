//! `GET /v1/market/demands`.

use actix_web::{HttpResponse, web};
use wufei_domain::{Platform, marketplace::demands, paging::PageQuery};

use super::DemandPage;
use crate::problem::{ApiError, Problem};

/// Open demand, newest first. No sign-in needed.
#[utoipa::path(get, path = "/v1/market/demands", tag = "marketplace",
    params(demands::DemandFilter, PageQuery),
    responses(
    (status = 200, body = DemandPage),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn list_demands(
    platform: web::Data<Platform>,
    filter: web::Query<demands::DemandFilter>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.parse()?;
    let value = demands::list_open(&platform.db, &filter, page).await?;
    Ok(HttpResponse::Ok().json(value))
}
