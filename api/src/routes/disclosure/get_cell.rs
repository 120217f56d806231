//! `GET /v1/cells/{id}`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    disclosure::cells::{self, CellView},
};

use crate::{
    extract::MaybeAuth,
    problem::{ApiError, Problem},
};

/// One cell: a published one for anyone; its applicant and the district's administrators
/// see it in any state, with the reason and the evidence.
#[utoipa::path(get, path = "/v1/cells/{id}", tag = "disclosure", security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "cell id")),
    responses(
    (status = 200, body = CellView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn get_cell(
    platform: web::Data<Platform>,
    auth: MaybeAuth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let value = cells::get(&platform.db, auth.0.as_ref(), id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(value))
}
