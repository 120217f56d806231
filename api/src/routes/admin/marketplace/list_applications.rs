//! `GET /v1/admin/merchant-applications`.

use actix_web::{HttpResponse, web};
use wufei_domain::{Platform, marketplace::merchants, paging::PageQuery};

use super::ApplicationPage;
use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Merchant applications in the administrator's district (super administrators: all).
#[utoipa::path(get, path = "/v1/admin/merchant-applications", tag = "admin", security(("bearer" = [])),
    params(merchants::ApplicationFilter, PageQuery),
    responses(
    (status = 200, body = ApplicationPage),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or not the right party)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn list_applications(
    platform: web::Data<Platform>,
    auth: Auth,
    filter: web::Query<merchants::ApplicationFilter>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.parse()?;
    let value = merchants::list_for_review(&platform.db, &auth.0, &filter, page).await?;
    Ok(HttpResponse::Ok().json(value))
}
