//! `/open311/v2`: Open311 GeoReport v2 over the suggestions (service list, request create,
//! list and get, JSON), so existing civic-reporting clients work against Wufei.

pub mod create_request;
pub mod get_request;
pub mod list_requests;
pub mod services;

use actix_web::{middleware::from_fn, web};

use crate::idempotency::idempotent;

/// Registers the Open311 routes at the root (they are not under `/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/open311/v2")
            .service(web::resource("/services.json").route(web::get().to(services::services)))
            .service(
                web::resource("/requests.json")
                    .route(web::get().to(list_requests::list_requests))
                    .route(
                        web::post()
                            .to(create_request::create_request)
                            .wrap(from_fn(idempotent)),
                    ),
            )
            .service(
                web::resource("/requests/{file}").route(web::get().to(get_request::get_request)),
            ),
    );
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    services::services,
    list_requests::list_requests,
    create_request::create_request,
    get_request::get_request,
))]
pub struct Api;
