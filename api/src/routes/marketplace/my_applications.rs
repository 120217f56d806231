//! `GET /v1/merchant-applications/mine`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    marketplace::{ApplicationView, merchants},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// The caller's applications, newest first.
#[utoipa::path(get, path = "/v1/merchant-applications/mine", tag = "marketplace", security(("bearer" = [])),
    responses(
    (status = 200, body = Vec<ApplicationView>),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn my_applications(
    platform: web::Data<Platform>,
    auth: Auth,
) -> Result<HttpResponse, ApiError> {
    let value = merchants::mine(&platform.db, &auth.0).await?;
    Ok(HttpResponse::Ok().json(value))
}
