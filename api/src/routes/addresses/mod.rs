//! `/v1/me/addresses`: the resident's saved addresses.

pub mod create;
pub mod delete;
pub mod list;
pub mod update;

use actix_web::web;

/// Registers the address routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/me/addresses")
            .route(web::get().to(list::list))
            .route(web::post().to(create::create)),
    )
    .service(
        web::resource("/me/addresses/{id}")
            .route(web::patch().to(update::update))
            .route(web::delete().to(delete::delete)),
    );
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list::list, create::create, update::update, delete::delete,))]
pub struct Api;
