//! `POST /v1/auth/refresh`.

use actix_web::{HttpResponse, web};
use wufei_domain::{Platform, auth::TokenPair};

use super::RefreshBody;
use crate::problem::{ApiError, Problem};

/// Spends a refresh token for a new pair. Reusing a spent token ends the session.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshBody, responses(
    (status = 200, body = TokenPair),
    (status = 401, description = "`refresh_token_invalid`, `refresh_token_expired` or `refresh_token_reused`", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn refresh(
    platform: web::Data<Platform>,
    body: web::Json<RefreshBody>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(platform.auth.refresh(&body.refresh_token).await?))
}
