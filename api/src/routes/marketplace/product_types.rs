//! `GET /v1/market/product-types`.

use actix_web::{HttpResponse, web};
use wufei_domain::{Platform, marketplace::product_types};

use crate::problem::ApiError;

/// The product types with their units and standards. No sign-in needed.
#[utoipa::path(get, path = "/v1/market/product-types", tag = "marketplace",
    responses(
    (status = 200, body = Vec<product_types::ProductType>)))]
#[tracing::instrument(skip_all)]
pub async fn product_types(platform: web::Data<Platform>) -> Result<HttpResponse, ApiError> {
    let value = product_types::list(&platform.db).await?;
    Ok(HttpResponse::Ok().json(value))
}
