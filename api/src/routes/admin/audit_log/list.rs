//! `GET /v1/admin/audit-log`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    audit::{self, AuditFilter},
    paging::PageQuery,
};

use super::AuditPage;
use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// The audit log, newest first, filtered by actor, action, object, district (the actors')
/// and time; cursor-paged. City-wide administrators read every act, district
/// administrators their district's accounts' acts.
#[utoipa::path(get, path = "/v1/admin/audit-log", tag = "admin", security(("bearer" = [])),
    params(AuditFilter, PageQuery),
    responses(
    (status = 200, body = AuditPage),
    (status = 400, description = "a malformed query (a bad time, say)", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not an administrator, or another district", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn list(
    platform: web::Data<Platform>,
    auth: Auth,
    filter: web::Query<AuditFilter>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.parse()?;
    Ok(HttpResponse::Ok().json(audit::list(&platform.db, &auth.0, &filter, page).await?))
}
