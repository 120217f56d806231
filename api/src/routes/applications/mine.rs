//! `GET /v1/recycler-applications/mine`.

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};
use actix_web::{HttpResponse, web};
use wufei_domain::Platform;
use wufei_domain::recyclers::{self, RecyclerView};

/// The caller's application (or recycler profile).
#[utoipa::path(get, path = "/v1/recycler-applications/mine", tag = "applications", security(("bearer" = [])),
    responses(
    (status = 200, body = RecyclerView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn mine(platform: web::Data<Platform>, auth: Auth) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(recyclers::mine(&platform.db, &auth.0).await?))
}
