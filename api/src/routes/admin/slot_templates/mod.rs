//! `/v1/admin/slot-templates`: the daily windows pickup slots are generated from.

pub mod create;
pub mod list;
pub mod update;

use actix_web::web;

/// Registers the slot template routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admin/slot-templates")
            .route(web::get().to(list::list))
            .route(web::post().to(create::create)),
    )
    .service(web::resource("/admin/slot-templates/{id}").route(web::patch().to(update::update)));
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list::list, create::create, update::update,))]
pub struct Api;
