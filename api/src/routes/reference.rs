//! Public reference data: districts with communities, the recyclable catalogue and its
//! rate history.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;
use uuid::Uuid;
use wufei_domain::{
    Platform,
    catalog::{self, CategoryView, DistrictView, rates::RateVersionView},
};

use crate::problem::{ApiError, Problem};

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

/// Query of the rate history.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RateHistoryQuery {
    /// One category; omitted: every category.
    pub category_id: Option<Uuid>,
}

/// The public rate table over time: every version (scheduled ones included), newest
/// `effective_from` first, each with when it stopped (or will stop) applying.
#[utoipa::path(get, path = "/v1/catalog/rates/history", tag = "reference", params(RateHistoryQuery), responses(
    (status = 200, body = Vec<RateVersionView>),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "no such category", body = Problem, content_type = "application/problem+json")))]
pub async fn rate_history(
    platform: web::Data<Platform>,
    query: web::Query<RateHistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(catalog::rates::history(&platform.db, query.category_id, Utc::now()).await?))
}

/// Registers the reference data routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/districts").route(web::get().to(districts)))
        .service(web::resource("/catalog/categories").route(web::get().to(categories)))
        .service(web::resource("/catalog/rates/history").route(web::get().to(rate_history)));
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(districts, categories, rate_history,))]
pub struct Api;
