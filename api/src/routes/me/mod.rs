//! `/v1/me`: the caller's own profile.

pub mod get;
pub mod update;

use actix_web::web;

/// Registers the profile routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/me")
            .route(web::get().to(get::get))
            .route(web::patch().to(update::update)),
    );
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(get::get, update::update,))]
pub struct Api;
