//! `GET /v1/admin/market/reports`.

use actix_web::{HttpResponse, web};
use wufei_domain::{Platform, marketplace::engagement, paging::PageQuery};

use super::ReportPage;
use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Open reports on listings of the administrator's district.
#[utoipa::path(get, path = "/v1/admin/market/reports", tag = "admin", security(("bearer" = [])),
    params(PageQuery),
    responses(
    (status = 200, body = ReportPage),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or not the right party)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn list_reports(
    platform: web::Data<Platform>,
    auth: Auth,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.parse()?;
    let value = engagement::queue(&platform.db, &auth.0, page).await?;
    Ok(HttpResponse::Ok().json(value))
}
