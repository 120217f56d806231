//! Routes, one action per file under a folder per resource. Handlers are thin: extract,
//! parse, authorise, call one domain service, map to a response.

pub mod auth;
pub mod health;
pub mod me;
pub mod reference;
pub mod uploads;

use actix_web::{middleware::from_fn, web};

use crate::idempotency::idempotent;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(health::metrics))
        .service(
            web::scope("/v1")
                .route("/auth/wechat", web::post().to(auth::wechat::login))
                .route("/auth/password", web::post().to(auth::password::login))
                .route("/auth/refresh", web::post().to(auth::refresh::refresh))
                .route("/auth/logout", web::post().to(auth::logout::logout))
                .service(
                    web::resource("/me")
                        .route(web::get().to(me::get::get))
                        .route(web::patch().to(me::update::update)),
                )
                .route("/districts", web::get().to(reference::districts))
                .route("/catalog/categories", web::get().to(reference::categories))
                .service(
                    web::resource("/uploads")
                        .wrap(from_fn(idempotent))
                        .route(web::post().to(uploads::create::create)),
                )
                .route("/uploads/{id}/content", web::get().to(uploads::content::content)),
        );
}
