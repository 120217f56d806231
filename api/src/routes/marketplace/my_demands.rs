//! `GET /v1/market/my/demands`.

use actix_web::{HttpResponse, web};
use wufei_domain::{Platform, marketplace::demands, paging::PageQuery};

use super::DemandPage;
use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// The caller's demands in every state, newest first.
#[utoipa::path(get, path = "/v1/market/my/demands", tag = "marketplace", security(("bearer" = [])),
    params(PageQuery),
    responses(
    (status = 200, body = DemandPage),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or not the right party)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn my_demands(
    platform: web::Data<Platform>,
    auth: Auth,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.parse()?;
    let value = demands::mine(&platform.db, &auth.0, page).await?;
    Ok(HttpResponse::Ok().json(value))
}
