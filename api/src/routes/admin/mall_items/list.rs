//! `GET /v1/admin/mall/items`.

use actix_web::{HttpResponse, web};
use wufei_domain::{Platform, mall::items, paging::PageQuery};

use crate::{
    extract::Admin,
    problem::{ApiError, Problem},
    routes::mall::ItemPage,
};

/// The items the administrator runs, withdrawn ones included, newest first.
#[utoipa::path(get, path = "/v1/admin/mall/items", tag = "admin", security(("bearer" = [])),
    params(PageQuery),
    responses(
    (status = 200, body = ItemPage),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %admin.0.user_id))]
pub async fn list(
    platform: web::Data<Platform>,
    admin: Admin,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.parse()?;
    Ok(HttpResponse::Ok().json(items::list_admin(&platform.db, &admin.0, page).await?))
}
