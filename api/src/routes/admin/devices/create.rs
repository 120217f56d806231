//! `POST /v1/admin/devices`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    devices::{self, DeviceWithSecret, NewDevice},
};

use crate::{
    extract::Admin,
    problem::{ApiError, Problem},
};

/// Registers a smart device; the answer carries its secret, shown this once. Audited.
#[utoipa::path(post, path = "/v1/admin/devices", tag = "admin", security(("bearer" = [])),
    request_body = NewDevice, responses(
    (status = 201, body = DeviceWithSecret),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not an administrator of the district", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %admin.0.user_id))]
pub async fn create(
    platform: web::Data<Platform>,
    admin: Admin,
    body: web::Json<NewDevice>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(
            devices::register(
                &platform.db,
                &platform.device_keys,
                &admin.0,
                body.into_inner(),
            )
            .await?,
        ))
}
