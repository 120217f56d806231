//! `/v1/auth`: WeChat and password login, refresh, logout.

pub mod logout;
pub mod password;
pub mod refresh;
pub mod session;
pub mod wechat;

use actix_web::web;

use serde::Deserialize;

/// Body of refresh and logout.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    /// The refresh token from the last login or refresh.
    pub refresh_token: String,
}

/// Registers the login and session routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/auth/wechat").route(web::post().to(wechat::login)))
        .service(web::resource("/auth/password").route(web::post().to(password::login)))
        .service(web::resource("/auth/refresh").route(web::post().to(refresh::refresh)))
        .service(web::resource("/auth/logout").route(web::post().to(logout::logout)))
        .service(web::resource("/auth/session").route(web::get().to(session::session)));
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    wechat::login,
    password::login,
    refresh::refresh,
    logout::logout,
    session::session,
))]
pub struct Api;
