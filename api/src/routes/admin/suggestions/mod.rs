//! `/v1/admin/suggestions`: moderating suggestions (publish, reply, reject) in the
//! administrator's district.

pub mod list;
pub mod publish;
pub mod reject;
pub mod reply;

use actix_web::{middleware::from_fn, web};

use crate::idempotency::idempotent;

/// Registers this folder's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/suggestions").route(web::get().to(list::list)))
        .service(
            web::resource("/admin/suggestions/{id}/publish")
                .wrap(from_fn(idempotent))
                .route(web::post().to(publish::publish)),
        )
        .service(
            web::resource("/admin/suggestions/{id}/reply")
                .wrap(from_fn(idempotent))
                .route(web::post().to(reply::reply)),
        )
        .service(
            web::resource("/admin/suggestions/{id}/reject")
                .wrap(from_fn(idempotent))
                .route(web::post().to(reject::reject)),
        );
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list::list, publish::publish, reply::reply, reject::reject))]
pub struct Api;
