//! `/v1/stats` and `/v1/open-data`: the public statistics from the recycling and points
//! ledgers (through their rollups) and the open-data catalogue with streamed downloads. No
//! sign-in.

pub mod download;
pub mod open_data;
pub mod overview;
pub mod recycling;

use actix_web::web;

/// Registers the statistics and open-data routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/stats/recycling").route(web::get().to(recycling::recycling)))
        .service(web::resource("/stats/overview").route(web::get().to(overview::overview)))
        .service(web::resource("/open-data").route(web::get().to(open_data::open_data)))
        .service(web::resource("/open-data/{file}").route(web::get().to(download::download)));
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    recycling::recycling,
    overview::overview,
    open_data::open_data,
    download::download,
))]
pub struct Api;
