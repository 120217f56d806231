//! `POST /v1/admin/devices/{id}/rotate-secret`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    devices::{self, DeviceWithSecret},
};

use crate::{
    extract::Admin,
    problem::{ApiError, Problem},
};

/// Gives a device a new secret, shown this once; the old one stops working at once.
/// Audited.
#[utoipa::path(post, path = "/v1/admin/devices/{id}/rotate-secret", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "device id")), responses(
    (status = 200, body = DeviceWithSecret),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "no such device in the caller's districts", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %admin.0.user_id, device_id = %id))]
pub async fn rotate_secret(
    platform: web::Data<Platform>,
    admin: Admin,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(
            devices::rotate_secret(
                &platform.db,
                &platform.device_keys,
                &admin.0,
                id.into_inner(),
            )
            .await?,
        ))
}
