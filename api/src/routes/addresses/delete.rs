//! `DELETE /v1/me/addresses/{id}`.

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};
use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::Platform;
use wufei_domain::pickups::addresses;

/// Deletes one of the caller's addresses (pickups booked from it keep their copy).
#[utoipa::path(delete, path = "/v1/me/addresses/{id}", tag = "addresses", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "address id")),
    responses(
    (status = 204),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn delete(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    addresses::delete(&platform.db, &auth.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
