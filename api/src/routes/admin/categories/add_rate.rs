//! `POST /v1/admin/categories/{id}/rates`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    catalog::rates::{self, NewRate, RateVersionView},
};

use crate::{
    extract::Admin,
    problem::{ApiError, Problem},
};

/// Adds a rate version taking effect now or later (super administrators). Versions in force
/// or past are never changed. Audited.
#[utoipa::path(post, path = "/v1/admin/categories/{id}/rates", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "category id")),
    request_body = NewRate, responses(
    (status = 201, body = RateVersionView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`rate_version_exists`: a version starts at that instant", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "bad values, or `effective_from` in the past", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %admin.0.user_id, category_id = %id))]
pub async fn add_rate(
    platform: web::Data<Platform>,
    admin: Admin,
    id: web::Path<Uuid>,
    body: web::Json<NewRate>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(
        rates::add_version(&platform.db, &admin.0, id.into_inner(), body.into_inner()).await?,
    ))
}
