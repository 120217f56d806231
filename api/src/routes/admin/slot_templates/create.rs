//! `POST /v1/admin/slot-templates`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    slots::templates::{self, NewSlotTemplate, SlotTemplateView},
};

use crate::{
    extract::Admin,
    problem::{ApiError, Problem},
};

/// Creates a slot template (city-wide: super administrators; for a district or community:
/// that district's administrator too). Slots for it appear at the next generation, on days
/// not generated yet. Audited.
#[utoipa::path(post, path = "/v1/admin/slot-templates", tag = "admin", security(("bearer" = [])),
    request_body = NewSlotTemplate, responses(
    (status = 201, body = SlotTemplateView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %admin.0.user_id))]
pub async fn create(
    platform: web::Data<Platform>,
    admin: Admin,
    body: web::Json<NewSlotTemplate>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created()
        .json(templates::create(&platform.db, &admin.0, body.into_inner()).await?))
}
