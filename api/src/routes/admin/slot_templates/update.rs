//! `PATCH /v1/admin/slot-templates/{id}`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    slots::templates::{self, SlotTemplatePatch, SlotTemplateView},
};

use crate::{
    extract::Admin,
    problem::{ApiError, Problem},
};

/// Renames a template, replaces its windows or weekdays, or (de)activates it. Changes apply
/// to days not generated yet; slots already generated keep their times and bookings.
/// Audited.
#[utoipa::path(patch, path = "/v1/admin/slot-templates/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "template id")),
    request_body = SlotTemplatePatch, responses(
    (status = 200, body = SlotTemplateView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %admin.0.user_id, template_id = %id))]
pub async fn update(
    platform: web::Data<Platform>,
    admin: Admin,
    id: web::Path<Uuid>,
    body: web::Json<SlotTemplatePatch>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(templates::update(&platform.db, &admin.0, id.into_inner(), body.into_inner()).await?))
}
