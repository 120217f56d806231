//! `GET /v1/admin/slot-templates`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    slots::templates::{self, SlotTemplateView},
};

use crate::{
    extract::Admin,
    problem::{ApiError, Problem},
};

/// Slot templates: all for super administrators; a district administrator's district's and
/// the city-wide ones otherwise.
#[utoipa::path(get, path = "/v1/admin/slot-templates", tag = "admin", security(("bearer" = [])), responses(
    (status = 200, body = Vec<SlotTemplateView>),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %admin.0.user_id))]
pub async fn list(platform: web::Data<Platform>, admin: Admin) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(templates::list(&platform.db, &admin.0).await?))
}
