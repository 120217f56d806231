//! `POST /v1/notifications/read-all`.

use actix_web::{HttpResponse, web};
use wufei_domain::{Platform, notifications::inbox};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Marks every notification of the caller read.
#[utoipa::path(post, path = "/v1/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses(
        (status = 204),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn read_all(platform: web::Data<Platform>, auth: Auth) -> Result<HttpResponse, ApiError> {
    inbox::mark_all_read(&platform.db, auth.0.user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
