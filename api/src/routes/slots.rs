//! `GET /v1/pickup-slots`: the slots a resident can choose for one of their addresses.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;
use uuid::Uuid;
use wufei_domain::{
    Error, Platform,
    auth::Role,
    slots::{self, SlotView},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Query of the slot lookup.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SlotQuery {
    /// One of the caller's addresses.
    pub address_id: String,
    /// Asia/Shanghai date, `YYYY-MM-DD`; more than 14 days ahead gives an empty list.
    pub date: String,
}

/// The slots on `date` for the address: its community's when that community has slots that
/// day, otherwise its district's. `bookable` is false from the booking lead time before the
/// start, and when full.
#[utoipa::path(get, path = "/v1/pickup-slots", tag = "pickups", security(("bearer" = [])),
    params(SlotQuery), responses(
    (status = 200, body = Vec<SlotView>),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "no such address of the caller", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "bad date", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn pickup_slots(
    platform: web::Data<Platform>,
    auth: Auth,
    query: web::Query<SlotQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require_role(&[Role::Resident])?;
    let date = slots::parse_date(&query.date)?;
    let address_id: Uuid = query
        .address_id
        .parse()
        .map_err(|_| Error::NotFound { what: "address" })?;
    Ok(HttpResponse::Ok().json(
        slots::for_resident(
            &platform.db,
            auth.0.user_id,
            address_id,
            date,
            Utc::now(),
            platform.settings.booking_lead(),
        )
        .await?,
    ))
}

/// Registers the slot route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/pickup-slots").route(web::get().to(pickup_slots)));
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(pickup_slots,))]
pub struct Api;
