//! Routes, one action per file under a folder per resource. Handlers are thin: extract,
//! parse, authorise, call one domain service, map to a response.

pub mod addresses;
pub mod admin;
pub mod applications;
pub mod auth;
pub mod health;
pub mod me;
pub mod pickups;
pub mod recycler;
pub mod notifications;
pub mod reference;
pub mod uploads;
pub mod ws;

use actix_web::{middleware::from_fn, web};

use crate::idempotency::idempotent;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").route(web::get().to(health::healthz)))
        .service(web::resource("/readyz").route(web::get().to(health::readyz)))
        .service(web::resource("/metrics").route(web::get().to(health::metrics)))
        .service(
            web::scope("/v1")
                .service(web::resource("/auth/wechat").route(web::post().to(auth::wechat::login)))
                .service(
                    web::resource("/auth/password").route(web::post().to(auth::password::login)),
                )
                .service(
                    web::resource("/auth/refresh").route(web::post().to(auth::refresh::refresh)),
                )
                .service(web::resource("/auth/logout").route(web::post().to(auth::logout::logout)))
                .service(
                    web::resource("/auth/session").route(web::get().to(auth::session::session)),
                )
                .service(
                    web::resource("/me")
                        .route(web::get().to(me::get::get))
                        .route(web::patch().to(me::update::update)),
                )
                .service(web::resource("/districts").route(web::get().to(reference::districts)))
                .service(
                    web::resource("/catalog/categories")
                        .route(web::get().to(reference::categories)),
                )
                .service(
                    web::resource("/uploads")
                        .wrap(from_fn(idempotent))
                        .route(web::post().to(uploads::create::create)),
                )
                .service(
                    web::resource("/uploads/{id}/content")
                        .route(web::get().to(uploads::content::content)),
                )
                .service(
                    web::resource("/notifications").route(web::get().to(notifications::list::list)),
                )
                .service(
                    web::resource("/notifications/read-all")
                        .route(web::post().to(notifications::read_all::read_all)),
                )
                .service(
                    web::resource("/notifications/{id}/read")
                        .route(web::post().to(notifications::read::read)),
                )
                .service(web::resource("/ws").route(web::get().to(ws::connect))),
        );
}
