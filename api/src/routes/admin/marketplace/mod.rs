//! `/v1/admin/merchant-applications` and `/v1/admin/market`: reviewing merchants and listings, the reports queue, product types.

pub mod approve_application;
pub mod approve_listing;
pub mod create_product_type;
pub mod list_applications;
pub mod list_listings;
pub mod list_reports;
pub mod reject_application;
pub mod reject_listing;
pub mod resolve_report;
pub mod take_down_listing;

use actix_web::{middleware::from_fn, web};
use wufei_domain::marketplace::{ApplicationView, engagement};

use crate::idempotency::idempotent;

pub use crate::routes::marketplace::ListingPage;

/// A page of merchant applications.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ApplicationPage {
    /// Newest first.
    pub items: Vec<ApplicationView>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}

/// A page of reports.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ReportPage {
    /// Newest first.
    pub items: Vec<engagement::ReportView>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}

/// Registers this folder's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admin/merchant-applications")
            .route(web::get().to(list_applications::list_applications)),
    );
    cfg.service(
        web::resource("/admin/merchant-applications/{id}/approve")
            .route(web::post().to(approve_application::approve_application)),
    );
    cfg.service(
        web::resource("/admin/merchant-applications/{id}/reject")
            .route(web::post().to(reject_application::reject_application)),
    );
    cfg.service(
        web::resource("/admin/market/listings").route(web::get().to(list_listings::list_listings)),
    );
    cfg.service(
        web::resource("/admin/market/listings/{id}/approve")
            .route(web::post().to(approve_listing::approve_listing)),
    );
    cfg.service(
        web::resource("/admin/market/listings/{id}/reject")
            .route(web::post().to(reject_listing::reject_listing)),
    );
    cfg.service(
        web::resource("/admin/market/listings/{id}/take-down")
            .route(web::post().to(take_down_listing::take_down_listing)),
    );
    cfg.service(
        web::resource("/admin/market/reports").route(web::get().to(list_reports::list_reports)),
    );
    cfg.service(
        web::resource("/admin/market/reports/{id}/resolve")
            .route(web::post().to(resolve_report::resolve_report)),
    );
    cfg.service(
        web::resource("/admin/market/product-types")
            .wrap(from_fn(idempotent))
            .route(web::post().to(create_product_type::create_product_type)),
    );
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_applications::list_applications,
    approve_application::approve_application,
    reject_application::reject_application,
    list_listings::list_listings,
    approve_listing::approve_listing,
    reject_listing::reject_listing,
    take_down_listing::take_down_listing,
    list_reports::list_reports,
    resolve_report::resolve_report,
    create_product_type::create_product_type,
))]
pub struct Api;
