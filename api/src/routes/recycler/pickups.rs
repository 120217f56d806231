//! `GET /v1/recycler/pickups`.

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};
use actix_web::{HttpResponse, web};
use wufei_domain::Platform;
use wufei_domain::{paging::PageQuery, pickups::work};

/// The caller's assigned pickups, newest first.
#[utoipa::path(get, path = "/v1/recycler/pickups", tag = "recycler", security(("bearer" = [])),
    params(PageQuery),
    responses(
    (status = 200, body = crate::routes::pickups::PickupPage),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn pickups(
    platform: web::Data<Platform>,
    auth: Auth,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.parse()?;
    Ok(HttpResponse::Ok().json(work::assigned(&platform.db, &auth.0, page).await?))
}
