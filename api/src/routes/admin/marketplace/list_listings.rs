//! `GET /v1/admin/market/listings`.

use actix_web::{HttpResponse, web};
use wufei_domain::{Platform, marketplace::listings, paging::PageQuery};

use super::ListingPage;
use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Listings in the administrator's district by status (default `pending_review`).
#[utoipa::path(get, path = "/v1/admin/market/listings", tag = "admin", security(("bearer" = [])),
    params(listings::ReviewFilter, PageQuery),
    responses(
    (status = 200, body = ListingPage),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or not the right party)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn list_listings(
    platform: web::Data<Platform>,
    auth: Auth,
    filter: web::Query<listings::ReviewFilter>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.parse()?;
    let value = listings::list_for_review(&platform.db, &auth.0, &filter, page).await?;
    Ok(HttpResponse::Ok().json(value))
}
