//! `GET /v1/me`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    auth::users::{self, Profile},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// The caller's profile.
#[utoipa::path(get, path = "/v1/me", tag = "me", security(("bearer" = [])), responses(
    (status = 200, body = Profile),
    (status = 401, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn get(platform: web::Data<Platform>, auth: Auth) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(users::profile(&platform.db, &auth.0).await?))
}
