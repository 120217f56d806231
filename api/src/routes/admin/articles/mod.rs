//! `/v1/admin/articles`: writing articles, their review (submit, publish by another
//! account, send back, withdraw), PDF attachments, and each column's age.

pub mod columns;
pub mod create;
pub mod get;
pub mod list;
pub mod steps;
pub mod update;
pub mod upload_attachment;

use actix_web::{middleware::from_fn, web};

use crate::idempotency::idempotent;

/// Registers this folder's routes (the fixed paths before `{id}`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admin/articles")
            .route(web::get().to(list::list))
            .route(web::post().to(create::create).wrap(from_fn(idempotent))),
    )
    .service(web::resource("/admin/articles/columns").route(web::get().to(columns::columns)))
    .service(
        web::resource("/admin/articles/attachments")
            .wrap(from_fn(idempotent))
            .route(web::post().to(upload_attachment::upload_attachment)),
    )
    .service(
        web::resource("/admin/articles/{id}")
            .route(web::get().to(get::get))
            .route(web::patch().to(update::update)),
    );
    cfg.service(
        web::resource("/admin/articles/{id}/submit")
            .wrap(from_fn(idempotent))
            .route(web::post().to(steps::submit)),
    )
    .service(
        web::resource("/admin/articles/{id}/publish")
            .wrap(from_fn(idempotent))
            .route(web::post().to(steps::publish)),
    )
    .service(
        web::resource("/admin/articles/{id}/send-back")
            .wrap(from_fn(idempotent))
            .route(web::post().to(steps::send_back)),
    )
    .service(
        web::resource("/admin/articles/{id}/withdraw")
            .wrap(from_fn(idempotent))
            .route(web::post().to(steps::withdraw)),
    );
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list::list,
    create::create,
    columns::columns,
    upload_attachment::upload_attachment,
    get::get,
    update::update,
    steps::submit,
    steps::publish,
    steps::send_back,
    steps::withdraw,
))]
pub struct Api;
