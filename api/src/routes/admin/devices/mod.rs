//! `/v1/admin/devices`: smart devices (super administrators anywhere, district
//! administrators in their district). A device's secret is in the answers to creating it
//! and rotating it, and nowhere else.

pub mod create;
pub mod list;
pub mod rotate_secret;
pub mod update;

use actix_web::web;
use serde::{Deserialize, Serialize};
use wufei_domain::devices::DeviceView;

/// Filters of the device list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DeviceQuery {
    /// Only this district's devices.
    pub district_code: Option<String>,
    /// Items per page.
    pub limit: Option<u64>,
    /// Cursor.
    pub cursor: Option<String>,
}

/// A page of devices.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DevicePage {
    /// Newest first.
    pub items: Vec<DeviceView>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}

/// Registers the device administration routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admin/devices")
            .route(web::get().to(list::list))
            .route(web::post().to(create::create)),
    )
    .service(web::resource("/admin/devices/{id}").route(web::patch().to(update::update)))
    .service(
        web::resource("/admin/devices/{id}/rotate-secret")
            .route(web::post().to(rotate_secret::rotate_secret)),
    );
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    create::create,
    list::list,
    update::update,
    rotate_secret::rotate_secret,
))]
pub struct Api;
