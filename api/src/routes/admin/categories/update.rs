//! `PATCH /v1/admin/categories/{id}`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    catalog::admin::{self, AdminCategoryView, CategoryPatch},
};

use crate::{
    extract::Admin,
    problem::{ApiError, Problem},
};

/// Renames, re-describes, retires or restores a category, or sets its daily cap on device
/// credits (super administrators). `code` and `unit` never change. Audited.
#[utoipa::path(patch, path = "/v1/admin/categories/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "category id")),
    request_body = CategoryPatch, responses(
    (status = 200, body = AdminCategoryView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %admin.0.user_id, category_id = %id))]
pub async fn update(
    platform: web::Data<Platform>,
    admin: Admin,
    id: web::Path<Uuid>,
    body: web::Json<CategoryPatch>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(admin::update(&platform.db, &admin.0, id.into_inner(), body.into_inner()).await?))
}
