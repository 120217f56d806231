//! `POST /v1/recycler/offers/{id}/accept`.

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};
use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::Platform;
use wufei_domain::pickups::{PickupView, work};

/// Accepts an offer: 200 with the pickup, or 409 `pickup_taken` when someone else has it.
#[utoipa::path(post, path = "/v1/recycler/offers/{id}/accept", tag = "recycler", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "offer id")),
    responses(
    (status = 200, body = PickupView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn accept(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(work::accept(&platform.db, &auth.0, id.into_inner()).await?))
}
