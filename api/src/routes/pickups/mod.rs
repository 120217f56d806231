//! `/v1/pickups`: booking and the resident's side of a pickup.

pub mod cancel;
pub mod complaint;
pub mod create;
pub mod dispute;
pub mod get;
pub mod list;
pub mod rating;
pub mod reschedule;

use crate::idempotency::idempotent;
use actix_web::{middleware::from_fn, web};

use serde::Serialize;
use wufei_domain::pickups::PickupView;

/// A page of pickups.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PickupPage {
    /// Newest first.
    pub items: Vec<PickupView>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}

/// Registers the resident's pickup routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/pickups")
            .wrap(from_fn(idempotent))
            .route(web::get().to(list::list))
            .route(web::post().to(create::create)),
    )
    .service(web::resource("/pickups/{id}").route(web::get().to(get::get)))
    .service(web::resource("/pickups/{id}/cancel").route(web::post().to(cancel::cancel)))
    .service(
        web::resource("/pickups/{id}/reschedule").route(web::post().to(reschedule::reschedule)),
    )
    .service(web::resource("/pickups/{id}/rating").route(web::post().to(rating::rating)))
    .service(web::resource("/pickups/{id}/complaint").route(web::post().to(complaint::complaint)))
    .service(web::resource("/pickups/{id}/dispute").route(web::post().to(dispute::dispute)));
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    create::create,
    list::list,
    get::get,
    cancel::cancel,
    reschedule::reschedule,
    rating::rating,
    complaint::complaint,
    dispute::dispute,
))]
pub struct Api;
