//! `PATCH /v1/admin/devices/{id}`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    devices::{self, DevicePatch, DeviceView},
};

use crate::{
    extract::Admin,
    problem::{ApiError, Problem},
};

/// Renames a device, moves it to another station, deactivates or reactivates it. Audited.
#[utoipa::path(patch, path = "/v1/admin/devices/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "device id")),
    request_body = DevicePatch, responses(
    (status = 200, body = DeviceView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "no such device in the caller's districts", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %admin.0.user_id, device_id = %id))]
pub async fn update(
    platform: web::Data<Platform>,
    admin: Admin,
    id: web::Path<Uuid>,
    body: web::Json<DevicePatch>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(devices::update(&platform.db, &admin.0, id.into_inner(), body.into_inner()).await?))
}
