//! `POST /v1/recycler/pickups/{id}/arrive`.

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};
use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::Platform;
use wufei_domain::pickups::{PickupView, work};

/// At the door (en_route → arrived).
#[utoipa::path(post, path = "/v1/recycler/pickups/{id}/arrive", tag = "recycler", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "pickup id")),
    responses(
    (status = 200, body = PickupView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn arrive(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(work::arrive(&platform.db, &auth.0, id.into_inner()).await?))
}
