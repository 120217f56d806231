//! `PATCH /v1/admin/districts/{code}`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    catalog::areas::{self, AdminDistrictView, DistrictPatch},
};

use crate::{
    extract::Admin,
    problem::{ApiError, Problem},
};

/// Sets a district's dispatch mode or whether it is served (its own administrator or a
/// super administrator). Audited.
#[utoipa::path(patch, path = "/v1/admin/districts/{code}", tag = "admin", security(("bearer" = [])),
    params(("code" = String, Path, description = "district code")),
    request_body = DistrictPatch, responses(
    (status = 200, body = AdminDistrictView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %admin.0.user_id, district = %code))]
pub async fn update(
    platform: web::Data<Platform>,
    admin: Admin,
    code: web::Path<String>,
    body: web::Json<DistrictPatch>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(areas::update_district(&platform.db, &admin.0, &code, body.into_inner()).await?))
}
