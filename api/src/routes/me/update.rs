//! `PATCH /v1/me`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    auth::users::{self, Profile, ProfilePatch},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Changes the caller's nickname or avatar.
#[utoipa::path(patch, path = "/v1/me", tag = "me", security(("bearer" = [])), request_body = ProfilePatch, responses(
    (status = 200, body = Profile),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn update(
    platform: web::Data<Platform>,
    auth: Auth,
    body: web::Json<ProfilePatch>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(users::update_profile(&platform.db, &auth.0, body.into_inner()).await?))
}
