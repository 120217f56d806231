//! `/v1/admin/categories`: the recyclable catalogue and its rate versions (super
//! administrators change it; any administrator reads it).

pub mod add_rate;
pub mod create;
pub mod list;
pub mod update;

use actix_web::web;

/// Registers the catalogue administration routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admin/categories")
            .route(web::get().to(list::list))
            .route(web::post().to(create::create)),
    )
    .service(web::resource("/admin/categories/{id}").route(web::patch().to(update::update)))
    .service(
        web::resource("/admin/categories/{id}/rates").route(web::post().to(add_rate::add_rate)),
    );
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list::list, create::create, update::update, add_rate::add_rate,))]
pub struct Api;
