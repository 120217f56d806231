//! `/v1/admin/points/…`: adjustments, budgets, reconciliation, a resident's ledger; and
//! dispute resolution under `/v1/admin/pickups/{id}/dispute/resolve`.

pub mod adjust;
pub mod budget;
pub mod reconciliation;
pub mod resident;
pub mod resolve;

use actix_web::{middleware::from_fn, web};

use crate::idempotency::idempotent;

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admin/points/adjustments")
            .wrap(from_fn(idempotent))
            .route(web::post().to(adjust::adjust)),
    )
    .service(
        web::resource("/admin/points/budgets")
            .wrap(from_fn(idempotent))
            .route(web::post().to(budget::budget)),
    )
    .service(
        web::resource("/admin/points/reconciliation")
            .route(web::get().to(reconciliation::reconciliation)),
    )
    .service(web::resource("/admin/points/residents/{id}").route(web::get().to(resident::account)))
    .service(
        web::resource("/admin/points/residents/{id}/entries")
            .route(web::get().to(resident::entries)),
    )
    .service(
        web::resource("/admin/pickups/{id}/dispute/resolve")
            .wrap(from_fn(idempotent))
            .route(web::post().to(resolve::resolve)),
    );
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    adjust::adjust,
    budget::budget,
    reconciliation::reconciliation,
    resident::account,
    resident::entries,
    resolve::resolve,
))]
pub struct Api;
