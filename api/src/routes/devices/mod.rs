//! Smart devices: the resident's QR token (`GET /v1/points/qr-token`) and the devices'
//! signed deposits (`POST /v1/devices/{device_id}/deposits`, no bearer token: the HMAC
//! signature authenticates the device).

pub mod deposit;
pub mod qr_token;

use actix_web::web;

/// Registers the device routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/points/qr-token").route(web::get().to(qr_token::qr_token)))
        .service(
            web::resource("/devices/{device_id}/deposits").route(web::post().to(deposit::deposit)),
        );
}
