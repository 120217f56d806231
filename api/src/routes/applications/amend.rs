//! `PATCH /v1/recycler-applications/mine`.

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};
use actix_web::{HttpResponse, web};
use wufei_domain::Platform;
use wufei_domain::recyclers::{self, ApplicationPatch, RecyclerView};

/// Changes the caller's pending application (add the ID photo here).
#[utoipa::path(patch, path = "/v1/recycler-applications/mine", tag = "applications", security(("bearer" = [])), request_body = ApplicationPatch,
    responses(
    (status = 200, body = RecyclerView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn amend(
    platform: web::Data<Platform>,
    auth: Auth,
    body: web::Json<ApplicationPatch>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(recyclers::amend(&platform.db, &auth.0, body.into_inner()).await?))
}
