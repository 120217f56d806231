//! `/v1/admin/users`: search and view accounts, suspend and reinstate, end every session,
//! reset a staff password, change a staff role or district.

pub mod actions;
pub mod get;
pub mod list;
pub mod update;

use actix_web::{middleware::from_fn, web};

use crate::idempotency::idempotent;

/// Registers this folder's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/users").route(web::get().to(list::list)))
        .service(
            web::resource("/admin/users/{id}")
                .route(web::get().to(get::get))
                .route(web::patch().to(update::update)),
        )
        .service(
            web::resource("/admin/users/{id}/suspend")
                .wrap(from_fn(idempotent))
                .route(web::post().to(actions::suspend)),
        )
        .service(
            web::resource("/admin/users/{id}/reinstate")
                .wrap(from_fn(idempotent))
                .route(web::post().to(actions::reinstate)),
        )
        .service(
            web::resource("/admin/users/{id}/revoke-sessions")
                .wrap(from_fn(idempotent))
                .route(web::post().to(actions::revoke_sessions)),
        )
        .service(
            web::resource("/admin/users/{id}/reset-password")
                .wrap(from_fn(idempotent))
                .route(web::post().to(actions::reset_password)),
        );
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list::list,
    get::get,
    update::update,
    actions::suspend,
    actions::reinstate,
    actions::revoke_sessions,
    actions::reset_password,
))]
pub struct Api;
