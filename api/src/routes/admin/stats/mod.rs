//! `/v1/admin/stats`: recomputing the statistics rollups from the ledgers.

pub mod rebuild;

use actix_web::{middleware::from_fn, web};

use crate::idempotency::idempotent;

/// Registers this folder's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admin/stats/rebuild")
            .wrap(from_fn(idempotent))
            .route(web::post().to(rebuild::rebuild)),
    );
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(rebuild::rebuild))]
pub struct Api;
