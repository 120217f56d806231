//! `/v1/recycler-applications`: becoming a recycler.

pub mod amend;
pub mod create;
pub mod mine;

use crate::idempotency::idempotent;
use actix_web::{middleware::from_fn, web};

/// Registers the recycler application routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/recycler-applications")
            .wrap(from_fn(idempotent))
            .route(web::post().to(create::create)),
    )
    .service(
        web::resource("/recycler-applications/mine")
            .route(web::get().to(mine::mine))
            .route(web::patch().to(amend::amend)),
    );
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create::create, mine::mine, amend::amend,))]
pub struct Api;
