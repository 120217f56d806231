//! Routes, one action per file under a folder per resource. Handlers are thin: extract,
//! parse, authorise, call one domain service, map to a response.

pub mod admin;
pub mod auth;
pub mod health;
pub mod me;
pub mod reference;
pub mod slots;
pub mod uploads;

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
                    web::resource("/catalog/rates/history")
                        .route(web::get().to(reference::rate_history)),
                )
                .service(web::resource("/pickup-slots").route(web::get().to(slots::pickup_slots)))
                .configure(admin::categories::configure)
                .configure(admin::districts::configure)
                .configure(admin::communities::configure)
                .configure(admin::slot_templates::configure)
                .service(
                    web::resource("/uploads")
                        .wrap(from_fn(idempotent))
                        .route(web::post().to(uploads::create::create)),
                )
                .service(
                    web::resource("/uploads/{id}/content")
                        .route(web::get().to(uploads::content::content)),
                ),
        );
}
