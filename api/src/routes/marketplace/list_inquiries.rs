//! `GET /v1/market/inquiries`.

use actix_web::{HttpResponse, web};
use wufei_domain::{Platform, marketplace::inquiries, paging::PageQuery};

use super::InquiryPage;
use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// The caller's inquiries as buyer or supplier, newest first.
#[utoipa::path(get, path = "/v1/market/inquiries", tag = "marketplace", security(("bearer" = [])),
    params(PageQuery),
    responses(
    (status = 200, body = InquiryPage),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or not the right party)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn list_inquiries(
    platform: web::Data<Platform>,
    auth: Auth,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.parse()?;
    let value = inquiries::mine(&platform.db, &auth.0, page).await?;
    Ok(HttpResponse::Ok().json(value))
}
