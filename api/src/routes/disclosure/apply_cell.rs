//! `POST /v1/cell-applications`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    disclosure::cells::{self, CellView, NewCell},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Applies for a zero-waste cell (无废细胞) badge: the organisation, its kind, where it is,
/// what it does, photos (public once published) and evidence (for the reviewers). Any
/// signed-in account; the district's administrators decide.
#[utoipa::path(post, path = "/v1/cell-applications", tag = "disclosure", security(("bearer" = [])), request_body = NewCell,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 201, body = CellView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn apply_cell(
    platform: web::Data<Platform>,
    auth: Auth,
    body: web::Json<NewCell>,
) -> Result<HttpResponse, ApiError> {
    let value = cells::apply(&platform.db, &auth.0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(value))
}
