//! Public reference data: districts with communities, the recyclable catalogue.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    catalog::{self, CategoryView, DistrictView},
};

use crate::problem::ApiError;

/// The service districts (the 11 of Liaocheng) with their communities.
#[utoipa::path(get, path = "/v1/districts", tag = "reference", responses((status = 200, body = Vec<DistrictView>)))]
pub async fn districts(platform: web::Data<Platform>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(catalog::districts(&platform.db).await?))
}

/// Recyclable categories with the points rate in force now.
#[utoipa::path(get, path = "/v1/catalog/categories", tag = "reference", responses((status = 200, body = Vec<CategoryView>)))]
pub async fn categories(platform: web::Data<Platform>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(catalog::categories(&platform.db).await?))
}
