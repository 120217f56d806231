//! Routes: a folder (or file) per resource, one action per file. Each registers its own
//! routes (`configure`) and contributes its own part of the OpenAPI document (`Api`);
//! this module lists them, nothing more. Handlers are thin: extract, parse, authorise,
//! call one domain service, map to a response.

pub mod addresses;
pub mod admin;
pub mod applications;
pub mod articles;
pub mod auth;
pub mod devices;
pub mod disclosure;
pub mod health;
pub mod mall;
pub mod marketplace;
pub mod me;
pub mod notifications;
pub mod open311;
pub mod pages;
pub mod pickups;
pub mod points;
pub mod recycler;
pub mod reference;
pub mod slots;
pub mod stats;
pub mod uploads;
pub mod voice;
pub mod ws;

use actix_web::web;
use utoipa::OpenApi;

/// How a resource registers its routes, and its part of the OpenAPI document.
type Resource = (
    fn(&mut web::ServiceConfig),
    fn() -> utoipa::openapi::OpenApi,
);

/// Every resource served under `/v1`. A new resource adds its folder here, once.
const V1: &[Resource] = &[
    (auth::configure, auth::Api::openapi),
    (me::configure, me::Api::openapi),
    (reference::configure, reference::Api::openapi),
    (slots::configure, slots::Api::openapi),
    (points::configure, points::Api::openapi),
    (devices::configure, devices::Api::openapi),
    (mall::configure, mall::Api::openapi),
    (marketplace::configure, marketplace::Api::openapi),
    (disclosure::configure, disclosure::Api::openapi),
    (articles::configure, articles::Api::openapi),
    (stats::configure, stats::Api::openapi),
    (voice::configure, voice::Api::openapi),
    (uploads::configure, uploads::Api::openapi),
    (notifications::configure, notifications::Api::openapi),
    (ws::configure, ws::Api::openapi),
    (addresses::configure, addresses::Api::openapi),
    (pickups::configure, pickups::Api::openapi),
    (applications::configure, applications::Api::openapi),
    (recycler::configure, recycler::Api::openapi),
    (admin::configure, admin::Api::openapi),
];

/// Registers every route: the operations endpoints at the root, the JSON API under `/v1`,
/// and the public pages (HTML, not in the OpenAPI document) at the root.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(health::configure)
        .configure(open311::configure)
        .configure(pages::configure)
        .service(
            web::scope("/v1")
                .wrap(actix_web::middleware::from_fn(
                    crate::cache::invalidate_on_admin_write,
                ))
                .configure(|v1| {
                    for (configure, _) in V1 {
                        configure(v1);
                    }
                }),
        );
}

/// Every resource's part of the OpenAPI document.
pub fn documents() -> Vec<utoipa::openapi::OpenApi> {
    [health::Api::openapi(), open311::Api::openapi()]
        .into_iter()
        .chain(V1.iter().map(|(_, document)| document()))
        .collect()
}
