//! `/v1/admin/districts`: dispatch mode and service of a district.

pub mod update;

use actix_web::web;

/// Registers the district administration routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/districts/{code}").route(web::patch().to(update::update)));
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(update::update,))]
pub struct Api;
