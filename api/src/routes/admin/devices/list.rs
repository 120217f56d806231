//! `GET /v1/admin/devices`.

use actix_web::{HttpResponse, web};
use wufei_domain::{Platform, devices, paging::PageQuery};

use super::{DevicePage, DeviceQuery};
use crate::{
    extract::Admin,
    problem::{ApiError, Problem},
};

/// Smart devices, newest first, without their secrets (district administrators: their
/// district's).
#[utoipa::path(get, path = "/v1/admin/devices", tag = "admin", security(("bearer" = [])),
    params(DeviceQuery), responses(
    (status = 200, body = DevicePage),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %admin.0.user_id))]
pub async fn list(
    platform: web::Data<Platform>,
    admin: Admin,
    query: web::Query<DeviceQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor.clone(),
    }
    .parse()?;
    Ok(HttpResponse::Ok()
        .json(devices::list(&platform.db, &admin.0, query.district_code.as_deref(), page).await?))
}
