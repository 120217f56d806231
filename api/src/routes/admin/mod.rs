//! `/v1/admin`: administration, scoped by role and district. Each resource is a folder that
//! registers full paths (`/admin/<resource>`) inside the `/v1` scope rather than an
//! `/admin` scope of its own, so several resources can add admin routes without shadowing
//! each other.

pub mod articles;
pub mod audit_log;
pub mod categories;
pub mod communities;
pub mod devices;
pub mod disclosure;
pub mod districts;
pub mod mall_items;
pub mod marketplace;
pub mod pickups;
pub mod plan;
pub mod points;
pub mod recycler_applications;
pub mod slot_templates;
pub mod stats;
pub mod suggestions;
pub mod users;

use actix_web::web;
use utoipa::OpenApi;

/// Registers every administration resource's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(articles::configure)
        .configure(audit_log::configure)
        .configure(categories::configure)
        .configure(districts::configure)
        .configure(communities::configure)
        .configure(slot_templates::configure)
        .configure(points::configure)
        .configure(devices::configure)
        .configure(mall_items::configure)
        .configure(marketplace::configure)
        .configure(plan::configure)
        .configure(disclosure::configure)
        .configure(stats::configure)
        .configure(suggestions::configure)
        .configure(users::configure)
        .configure(recycler_applications::configure)
        .configure(pickups::configure);
}

/// The administration part of the OpenAPI document: each resource's.
pub struct Api;

impl OpenApi for Api {
    fn openapi() -> utoipa::openapi::OpenApi {
        crate::openapi::merged([
            articles::Api::openapi(),
            audit_log::Api::openapi(),
            categories::Api::openapi(),
            districts::Api::openapi(),
            communities::Api::openapi(),
            slot_templates::Api::openapi(),
            points::Api::openapi(),
            devices::Api::openapi(),
            mall_items::Api::openapi(),
            marketplace::Api::openapi(),
            plan::Api::openapi(),
            disclosure::Api::openapi(),
            stats::Api::openapi(),
            suggestions::Api::openapi(),
            users::Api::openapi(),
            recycler_applications::Api::openapi(),
            pickups::Api::openapi(),
        ])
    }
}
