//! `GET /v1/pickups/{id}`.

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};
use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::Platform;
use wufei_domain::pickups::{self, PickupView};

/// One pickup with items, recycler and timeline. Only its resident, its recycler and administrators of its district see it.
#[utoipa::path(get, path = "/v1/pickups/{id}", tag = "pickups", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "pickup id")),
    responses(
    (status = 200, body = PickupView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn get(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(pickups::get(&platform.db, &auth.0, id.into_inner()).await?))
}
