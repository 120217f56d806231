//! `/v1/admin/pickups`: the pickup monitor and manual dispatch.

pub mod assign;
pub mod list;

use actix_web::web;

/// Registers the pickup monitor and manual dispatch routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/pickups").route(web::get().to(list::pickups)))
        .service(web::resource("/admin/pickups/{id}/assign").route(web::post().to(assign::assign)));
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list::pickups, assign::assign,))]
pub struct Api;
