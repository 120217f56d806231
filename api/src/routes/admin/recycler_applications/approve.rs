//! `POST /v1/admin/recycler-applications/{id}/approve`.

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};
use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::Platform;
use wufei_domain::recyclers::{self, RecyclerView, ReviewInput};

/// Approves a pending application (needs the ID photo).
#[utoipa::path(post, path = "/v1/admin/recycler-applications/{id}/approve", tag = "admin", security(("bearer" = [])), request_body = ReviewInput,
    params(("id" = Uuid, Path, description = "application (recycler user) id")),
    responses(
    (status = 200, body = RecyclerView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn approve(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<ReviewInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(
        recyclers::review(
            &platform.db,
            &auth.0,
            id.into_inner(),
            true,
            body.into_inner(),
        )
        .await?,
    ))
}
