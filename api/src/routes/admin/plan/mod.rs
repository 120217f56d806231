//! `/v1/admin/indicators` and `/v1/admin/plan`: city-wide administrators enter indicator
//! values and task progress.

pub mod record_value;
pub mod update_task;

use actix_web::{middleware::from_fn, web};

use crate::idempotency::idempotent;

/// Registers the plan administration routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admin/indicators/{code}/values")
            .wrap(from_fn(idempotent))
            .route(web::post().to(record_value::record_value)),
    )
    .service(
        web::resource("/admin/plan/tasks/{id}/updates")
            .wrap(from_fn(idempotent))
            .route(web::post().to(update_task::update_task)),
    );
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(record_value::record_value, update_task::update_task))]
pub struct Api;
