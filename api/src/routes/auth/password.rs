//! `POST /v1/auth/password`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use wufei_domain::{Platform, auth::TokenPair};

use crate::{
    extract::ClientAddr,
    problem::{ApiError, Problem},
};

/// Body: phone and password.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordLogin {
    /// Mainland mobile number.
    pub phone: String,
    /// Password.
    pub password: String,
}

/// Logs in a recycler, merchant, station manager or administrator. Failed attempts are
/// throttled per phone and per client (429 with `Retry-After`).
#[utoipa::path(post, path = "/v1/auth/password", tag = "auth", request_body = PasswordLogin, responses(
    (status = 200, body = TokenPair),
    (status = 401, description = "`invalid_credentials`", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "account disabled", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 429, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(client = %client.0))]
pub async fn login(
    platform: web::Data<Platform>,
    client: ClientAddr,
    body: web::Json<PasswordLogin>,
) -> Result<HttpResponse, ApiError> {
    let pair = platform
        .auth
        .login_password(&body.phone, &body.password, &client.0)
        .await?;
    Ok(HttpResponse::Ok().json(pair))
}
