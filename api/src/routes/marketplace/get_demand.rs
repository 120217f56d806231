//! `GET /v1/market/demands/{id}`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    marketplace::{DemandView, demands},
};

use crate::{
    extract::MaybeAuth,
    problem::{ApiError, Problem},
};

/// One demand: open ones for anyone; others for their merchant and administrators.
#[utoipa::path(get, path = "/v1/market/demands/{id}", tag = "marketplace", security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "demand id")),
    responses(
    (status = 200, body = DemandView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn get_demand(
    platform: web::Data<Platform>,
    auth: MaybeAuth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let value = demands::get(&platform.db, auth.0.as_ref(), id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(value))
}
