//! `GET /v1/admin/cell-applications`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use wufei_domain::{
    Platform, disclosure::cells, entities::zero_waste_cell::Status, paging::PageQuery,
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
    routes::disclosure::CellPage,
};

/// Which applications.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ReviewFilter {
    /// Only this state (default `pending`).
    pub status: Option<Status>,
}

/// Cell applications of the administrator's district (super administrators: all), newest
/// first.
#[utoipa::path(get, path = "/v1/admin/cell-applications", tag = "admin", security(("bearer" = [])),
    params(ReviewFilter, PageQuery),
    responses(
    (status = 200, body = CellPage),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or district)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn list_cell_applications(
    platform: web::Data<Platform>,
    auth: Auth,
    filter: web::Query<ReviewFilter>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.parse()?;
    let value = cells::list_for_review(&platform.db, &auth.0, filter.status, page).await?;
    Ok(HttpResponse::Ok().json(value))
}
