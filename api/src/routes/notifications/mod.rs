//! `/v1/notifications`: the caller's in-app inbox. Only ever the caller's own notifications.

pub mod list;
pub mod read;
pub mod read_all;

use actix_web::web;

/// Registers the inbox routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/notifications").route(web::get().to(list::list)))
        .service(web::resource("/notifications/read-all").route(web::post().to(read_all::read_all)))
        .service(web::resource("/notifications/{id}/read").route(web::post().to(read::read)));
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list::list, read::read, read_all::read_all,))]
pub struct Api;
