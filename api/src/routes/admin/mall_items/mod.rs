//! `/v1/admin/mall/items`: the points mall's catalogue (super administrators: every item;
//! district administrators: their district's). Items are withdrawn, never deleted.

pub mod create;
pub mod list;
pub mod update;

use actix_web::web;

/// Registers the mall administration routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admin/mall/items")
            .route(web::get().to(list::list))
            .route(web::post().to(create::create)),
    )
    .service(web::resource("/admin/mall/items/{id}").route(web::patch().to(update::update)));
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list::list, create::create, update::update,))]
pub struct Api;
