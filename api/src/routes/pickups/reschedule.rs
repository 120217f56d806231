//! `POST /v1/pickups/{id}/reschedule`.

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};
use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::Platform;
use wufei_domain::pickups::{
    PickupView, Rules,
    reschedule::{self, RescheduleInput},
};

/// Moves the pickup into another slot atomically; it is dispatched again for the new time.
#[utoipa::path(post, path = "/v1/pickups/{id}/reschedule", tag = "pickups", security(("bearer" = [])), request_body = RescheduleInput,
    params(("id" = Uuid, Path, description = "pickup id")),
    responses(
    (status = 200, body = PickupView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn reschedule(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<RescheduleInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(
        reschedule::reschedule(
            &platform.db,
            &auth.0,
            Rules::from_settings(&platform.settings),
            id.into_inner(),
            body.into_inner(),
        )
        .await?,
    ))
}
