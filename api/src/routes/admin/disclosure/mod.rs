//! `/v1/admin/cell-applications` and `/v1/admin/facilities`: the district's administrators
//! decide on zero-waste cell applications and keep the facility map.

pub mod approve_cell;
pub mod create_facility;
pub mod list_cell_applications;
pub mod list_facilities;
pub mod reject_cell;
pub mod revoke_cell;
pub mod update_facility;

use actix_web::{middleware::from_fn, web};

use crate::idempotency::idempotent;

/// Registers this folder's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admin/cell-applications")
            .route(web::get().to(list_cell_applications::list_cell_applications)),
    )
    .service(
        web::resource("/admin/cell-applications/{id}/approve")
            .wrap(from_fn(idempotent))
            .route(web::post().to(approve_cell::approve_cell)),
    )
    .service(
        web::resource("/admin/cell-applications/{id}/reject")
            .wrap(from_fn(idempotent))
            .route(web::post().to(reject_cell::reject_cell)),
    )
    .service(
        web::resource("/admin/cell-applications/{id}/revoke")
            .wrap(from_fn(idempotent))
            .route(web::post().to(revoke_cell::revoke_cell)),
    )
    .service(
        web::resource("/admin/facilities")
            .route(web::get().to(list_facilities::list_facilities))
            .route(
                web::post()
                    .to(create_facility::create_facility)
                    .wrap(from_fn(idempotent)),
            ),
    )
    .service(
        web::resource("/admin/facilities/{id}")
            .route(web::patch().to(update_facility::update_facility)),
    );
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_cell_applications::list_cell_applications,
    approve_cell::approve_cell,
    reject_cell::reject_cell,
    revoke_cell::revoke_cell,
    list_facilities::list_facilities,
    create_facility::create_facility,
    update_facility::update_facility,
))]
pub struct Api;
