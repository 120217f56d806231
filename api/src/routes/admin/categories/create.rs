//! `POST /v1/admin/categories`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    catalog::admin::{self, AdminCategoryView, NewCategory},
};

use crate::{
    extract::Admin,
    problem::{ApiError, Problem},
};

/// Creates a category with its first rate version (super administrators). Audited.
#[utoipa::path(post, path = "/v1/admin/categories", tag = "admin", security(("bearer" = [])),
    request_body = NewCategory, responses(
    (status = 201, body = AdminCategoryView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`category_code_taken`", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %admin.0.user_id))]
pub async fn create(
    platform: web::Data<Platform>,
    admin: Admin,
    body: web::Json<NewCategory>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created()
        .json(admin::create(&platform.db, &admin.0, body.into_inner()).await?))
}
