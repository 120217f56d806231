//! The resident's green points (`/v1/points/…`) and the recycler's earnings.

pub mod account;
pub mod earnings;
pub mod entries;
pub mod qr_token;

use actix_web::web;

/// Registers the points routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/points/account").route(web::get().to(account::account)))
        .service(web::resource("/points/entries").route(web::get().to(entries::entries)))
        .service(web::resource("/points/qr-token").route(web::get().to(qr_token::qr_token)))
        .service(web::resource("/recycler/earnings").route(web::get().to(earnings::earnings)));
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    account::account,
    entries::entries,
    earnings::earnings,
    qr_token::qr_token,
))]
pub struct Api;
