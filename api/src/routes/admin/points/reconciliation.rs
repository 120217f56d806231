//! `GET /v1/admin/points/reconciliation`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    ledger::reconcile::{self, Reconciliation},
};

use crate::{
    extract::Admin,
    problem::{ApiError, Problem},
};

/// Per district: points issued = held by residents + redeemed + expired, each side from a
/// different record, and whether the city's books balance. District administrators see
/// their district.
#[utoipa::path(get, path = "/v1/admin/points/reconciliation", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, body = Reconciliation),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an administrator", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %who.0.user_id))]
pub async fn reconciliation(
    platform: web::Data<Platform>,
    who: Admin,
) -> Result<HttpResponse, ApiError> {
    let only: Option<Vec<String>> = if who.0.is_super_admin() {
        None
    } else {
        Some(who.0.district_code.iter().cloned().collect())
    };
    Ok(HttpResponse::Ok().json(reconcile::reconcile(&platform.db, only.as_deref()).await?))
}
