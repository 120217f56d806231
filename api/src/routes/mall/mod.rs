//! `/v1/mall`: the points mall from the residents' side (browse, redeem, cancel) and the
//! stations' side (look a pickup code up, hand the goods out).

pub mod cancel;
pub mod fulfil;
pub mod get_item;
pub mod get_redemption;
pub mod list_items;
pub mod list_redemptions;
pub mod lookup;
pub mod redeem;

use actix_web::{middleware::from_fn, web};
use serde::Serialize;
use wufei_domain::mall::{ItemView, RedemptionView};

use crate::idempotency::idempotent;

/// A page of items.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ItemPage {
    /// Newest first.
    pub items: Vec<ItemView>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}

/// A page of redemptions.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RedemptionPage {
    /// Newest first.
    pub items: Vec<RedemptionView>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}

/// Registers the mall routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/mall/items").route(web::get().to(list_items::list_items)))
        .service(web::resource("/mall/items/{id}").route(web::get().to(get_item::get_item)))
        .service(
            web::resource("/mall/redemptions")
                .wrap(from_fn(idempotent))
                .route(web::get().to(list_redemptions::list_redemptions))
                .route(web::post().to(redeem::redeem)),
        )
        .service(
            web::resource("/mall/redemptions/{id}")
                .route(web::get().to(get_redemption::get_redemption)),
        )
        .service(
            web::resource("/mall/redemptions/{id}/cancel")
                .wrap(from_fn(idempotent))
                .route(web::post().to(cancel::cancel)),
        )
        .service(web::resource("/mall/fulfilments").route(web::post().to(fulfil::fulfil)))
        .service(
            web::resource("/mall/fulfilments/{pickup_code}").route(web::get().to(lookup::lookup)),
        );
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_items::list_items,
    get_item::get_item,
    redeem::redeem,
    list_redemptions::list_redemptions,
    get_redemption::get_redemption,
    cancel::cancel,
    lookup::lookup,
    fulfil::fulfil,
))]
pub struct Api;
