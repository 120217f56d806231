//! Smart devices' signed deposits (`POST /v1/devices/{device_id}/deposits`, no bearer
//! token: the HMAC signature authenticates the device). The resident's side is
//! `GET /v1/points/qr-token` (`routes::points::qr_token`).

pub mod deposit;

use actix_web::web;

/// Registers the device routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/devices/{device_id}/deposits").route(web::post().to(deposit::deposit)),
    );
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(deposit::deposit,))]
pub struct Api;
