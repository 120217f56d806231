//! `GET /v1/admin/users`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    auth::admin::{self, AccountQuery, AccountView},
    paging::PageQuery,
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// A page of accounts.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AccountPage {
    /// Newest first.
    pub items: Vec<AccountView>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}

/// Accounts by phone, role, district and status, newest first: every account for city-wide
/// administrators; their district's accounts that are not administrators for district
/// administrators.
#[utoipa::path(get, path = "/v1/admin/users", tag = "admin", security(("bearer" = [])),
    params(AccountQuery, PageQuery),
    responses(
    (status = 200, body = AccountPage),
    (status = 400, description = "malformed query", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn list(
    platform: web::Data<Platform>,
    auth: Auth,
    query: web::Query<AccountQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.parse()?;
    Ok(HttpResponse::Ok().json(admin::list(&platform.db, &auth.0, &query, page).await?))
}
