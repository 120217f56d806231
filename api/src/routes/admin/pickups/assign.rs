//! `POST /v1/admin/pickups/{id}/assign`.

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};
use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::Platform;
use wufei_domain::pickups::{
    PickupView,
    work::{self, AssignInput},
};

/// Dispatches a pickup by hand to a recycler (administrators and station managers of its district).
#[utoipa::path(post, path = "/v1/admin/pickups/{id}/assign", tag = "admin", security(("bearer" = [])), request_body = AssignInput,
    params(("id" = Uuid, Path, description = "pickup id")),
    responses(
    (status = 200, body = PickupView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn assign(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<AssignInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(
        work::assign_manually(&platform.db, &auth.0, id.into_inner(), body.into_inner()).await?,
    ))
}
