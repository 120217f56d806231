//! `POST /v1/pickups/{id}/complaint`.

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};
use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::Platform;
use wufei_domain::pickups::{
    PickupView,
    complain::{self, TextInput},
};

/// Complains about the recycler of a pickup (once); counts in dispatch ranking.
#[utoipa::path(post, path = "/v1/pickups/{id}/complaint", tag = "pickups", security(("bearer" = [])), request_body = TextInput,
    params(("id" = Uuid, Path, description = "pickup id")),
    responses(
    (status = 200, body = PickupView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn complaint(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<TextInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(complain::complain(&platform.db, &auth.0, id.into_inner(), body.into_inner()).await?))
}
