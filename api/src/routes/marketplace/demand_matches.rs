//! `GET /v1/market/demands/{id}/matches`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{Platform, marketplace::demands};

use crate::{
    extract::MaybeAuth,
    problem::{ApiError, Problem},
};

/// Published listings that can serve the demand (same type and unit, delivery radius reaching the site), best first: within price, enough stock, certified, cheaper, nearer.
#[utoipa::path(get, path = "/v1/market/demands/{id}/matches", tag = "marketplace", security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "demand id")),
    responses(
    (status = 200, body = Vec<demands::Match>),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn demand_matches(
    platform: web::Data<Platform>,
    auth: MaybeAuth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let value = demands::matches(&platform.db, auth.0.as_ref(), id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(value))
}
