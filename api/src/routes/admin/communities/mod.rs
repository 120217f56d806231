//! `/v1/admin/communities`: communities inside districts.

pub mod create;

use actix_web::web;

/// Registers the community administration routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/communities").route(web::post().to(create::create)));
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create::create,))]
pub struct Api;
