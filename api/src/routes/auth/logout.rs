//! `POST /v1/auth/logout`.

use actix_web::{HttpResponse, web};
use wufei_domain::Platform;

use super::RefreshBody;
use crate::problem::{ApiError, Problem};

/// Ends the session the refresh token belongs to. Always 204.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", request_body = RefreshBody, responses(
    (status = 204), (status = 400, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn logout(
    platform: web::Data<Platform>,
    body: web::Json<RefreshBody>,
) -> Result<HttpResponse, ApiError> {
    platform.auth.logout(&body.refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}
