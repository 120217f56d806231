//! `PUT /v1/market/listings/{id}/favourite`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{Platform, marketplace::engagement};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Keeps a published listing among the caller's favourites.
#[utoipa::path(put, path = "/v1/market/listings/{id}/favourite", tag = "marketplace", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "listing id")),
    responses(
    (status = 204, description = "done"),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn favourite(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    engagement::favourite(&platform.db, &auth.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
