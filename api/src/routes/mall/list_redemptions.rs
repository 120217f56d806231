//! `GET /v1/mall/redemptions`.

use actix_web::{HttpResponse, web};
use wufei_domain::{Platform, mall::redemptions, paging::PageQuery};

use super::RedemptionPage;
use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// The caller's redemptions, newest first.
#[utoipa::path(get, path = "/v1/mall/redemptions", tag = "mall", security(("bearer" = [])),
    params(PageQuery),
    responses(
    (status = 200, body = RedemptionPage),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn list_redemptions(
    platform: web::Data<Platform>,
    auth: Auth,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.parse()?;
    Ok(HttpResponse::Ok().json(redemptions::list_mine(&platform.db, &auth.0, page).await?))
}
