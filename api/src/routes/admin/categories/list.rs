//! `GET /v1/admin/categories`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    catalog::admin::{self, AdminCategoryView},
};

use crate::{
    extract::Admin,
    problem::{ApiError, Problem},
};

/// Every category, inactive ones included, with the rate in force and those scheduled.
#[utoipa::path(get, path = "/v1/admin/categories", tag = "admin", security(("bearer" = [])), responses(
    (status = 200, body = Vec<AdminCategoryView>),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %admin.0.user_id))]
pub async fn list(platform: web::Data<Platform>, admin: Admin) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(admin::list(&platform.db, &admin.0).await?))
}
