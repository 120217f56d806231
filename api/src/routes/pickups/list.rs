//! `GET /v1/pickups`.

use actix_web::{HttpResponse, web};
use wufei_domain::Platform;
use wufei_domain::{paging::PageQuery, pickups};

use super::PickupPage;
use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// The caller's pickups, newest first.
#[utoipa::path(get, path = "/v1/pickups", tag = "pickups", security(("bearer" = [])),
    params(PageQuery),
    responses(
    (status = 200, body = PickupPage),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn list(
    platform: web::Data<Platform>,
    auth: Auth,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.parse()?;
    Ok(HttpResponse::Ok().json(pickups::list_mine(&platform.db, &auth.0, page).await?))
}
