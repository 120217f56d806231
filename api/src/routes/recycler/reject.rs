//! `POST /v1/recycler/offers/{id}/reject`.

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};
use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::Platform;
use wufei_domain::pickups::work::{self, RejectInput};

/// Declines an offer; the pickup goes to the next recycler.
#[utoipa::path(post, path = "/v1/recycler/offers/{id}/reject", tag = "recycler", security(("bearer" = [])), request_body = RejectInput,
    params(("id" = Uuid, Path, description = "offer id")),
    responses(
    (status = 204),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn reject(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<RejectInput>,
) -> Result<HttpResponse, ApiError> {
    work::reject(&platform.db, &auth.0, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
