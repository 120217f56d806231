//! `GET /v1/mall/items`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    mall::items::{self, ItemFilter},
    paging::PageQuery,
};

use super::ItemPage;
use crate::problem::{ApiError, Problem};

/// What is on sale now (active, inside its sale window), newest first. No sign-in needed.
#[utoipa::path(get, path = "/v1/mall/items", tag = "mall",
    params(PageQuery, ItemFilter),
    responses(
    (status = 200, body = ItemPage),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn list_items(
    platform: web::Data<Platform>,
    page: web::Query<PageQuery>,
    filter: web::Query<ItemFilter>,
) -> Result<HttpResponse, ApiError> {
    let page = page.parse()?;
    Ok(HttpResponse::Ok().json(items::list_on_sale(&platform.db, &filter, page).await?))
}
