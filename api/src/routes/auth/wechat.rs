//! `POST /v1/auth/wechat`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use wufei_domain::{Platform, auth::TokenPair};

use crate::problem::{ApiError, Problem};

/// Body: the code from `wx.login`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WechatLogin {
    /// The code `wx.login` gave the mini-program.
    pub code: String,
}

/// Logs a resident in with WeChat, creating the account on first login.
#[utoipa::path(post, path = "/v1/auth/wechat", tag = "auth", request_body = WechatLogin, responses(
    (status = 200, body = TokenPair),
    (status = 401, description = "invalid or used code (`wechat_code_invalid`)", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "WeChat blocked the user", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "WeChat rate limit", body = Problem, content_type = "application/problem+json"),
    (status = 502, body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "WeChat unavailable", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn login(
    platform: web::Data<Platform>,
    body: web::Json<WechatLogin>,
) -> Result<HttpResponse, ApiError> {
    let pair = platform.auth.login_wechat(&body.code).await?;
    Ok(HttpResponse::Ok().json(pair))
}
