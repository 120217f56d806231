//! `GET /v1/cell-applications/mine`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    disclosure::cells::{self, CellView},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// The caller's cell applications in every state, newest first, with reasons.
#[utoipa::path(get, path = "/v1/cell-applications/mine", tag = "disclosure", security(("bearer" = [])),
    responses(
    (status = 200, body = Vec<CellView>),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn my_cells(platform: web::Data<Platform>, auth: Auth) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(cells::mine(&platform.db, &auth.0).await?))
}
