//! `GET /v1/suggestions/mine`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    voice::suggestions::{self, SuggestionView},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// The caller's suggestions in every state, newest first.
#[utoipa::path(get, path = "/v1/suggestions/mine", tag = "disclosure", security(("bearer" = [])),
    responses(
    (status = 200, body = Vec<SuggestionView>),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn my_suggestions(
    platform: web::Data<Platform>,
    auth: Auth,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(suggestions::mine(&platform.db, &auth.0).await?))
}
