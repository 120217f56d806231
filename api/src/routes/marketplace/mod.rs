//! `/v1/market` and `/v1/merchant-applications`: the recycled construction-material marketplace (merchants, listings, demand, inquiries, quotes, deals, search, statistics).

pub mod accept_quote;
pub mod add_certificate;
pub mod apply;
pub mod cancel_deal;
pub mod close_demand;
pub mod complete_deal;
pub mod create_listing;
pub mod deliver_deal;
pub mod demand_matches;
pub mod favourite;
pub mod get_deal;
pub mod get_demand;
pub mod get_inquiry;
pub mod get_listing;
pub mod get_merchant;
pub mod list_deals;
pub mod list_demands;
pub mod list_inquiries;
pub mod make_quote;
pub mod my_applications;
pub mod my_demands;
pub mod my_favourites;
pub mod my_listings;
pub mod open_inquiry;
pub mod post_demand;
pub mod product_types;
pub mod report;
pub mod search_listings;
pub mod send_message;
pub mod stats;
pub mod submit_listing;
pub mod unfavourite;
pub mod update_listing;
pub mod withdraw_listing;

use actix_web::{middleware::from_fn, web};
use wufei_domain::marketplace::{DealView, DemandView, InquiryView, ListingView};

use crate::idempotency::idempotent;

macro_rules! page {
    ($name:ident, $item:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            /// Newest first.
            pub items: Vec<$item>,
            /// Cursor of the next page.
            pub next_cursor: Option<String>,
        }
    };
}

page!(ListingPage, ListingView, "A page of listings.");
page!(DemandPage, DemandView, "A page of demands.");
page!(InquiryPage, InquiryView, "A page of inquiries.");
page!(DealPage, DealView, "A page of deals.");

/// Registers this folder's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/merchant-applications")
            .wrap(from_fn(idempotent))
            .route(web::post().to(apply::apply)),
    );
    cfg.service(
        web::resource("/merchant-applications/mine")
            .route(web::get().to(my_applications::my_applications)),
    );
    cfg.service(
        web::resource("/market/product-types").route(web::get().to(product_types::product_types)),
    );
    cfg.service(
        web::resource("/market/listings")
            .wrap(from_fn(idempotent))
            .route(web::get().to(search_listings::search_listings))
            .route(web::post().to(create_listing::create_listing)),
    );
    cfg.service(
        web::resource("/market/listings/{id}")
            .route(web::get().to(get_listing::get_listing))
            .route(web::patch().to(update_listing::update_listing)),
    );
    cfg.service(
        web::resource("/market/listings/{id}/submit")
            .route(web::post().to(submit_listing::submit_listing)),
    );
    cfg.service(
        web::resource("/market/listings/{id}/withdraw")
            .route(web::post().to(withdraw_listing::withdraw_listing)),
    );
    cfg.service(
        web::resource("/market/listings/{id}/certificates")
            .wrap(from_fn(idempotent))
            .route(web::post().to(add_certificate::add_certificate)),
    );
    cfg.service(
        web::resource("/market/listings/{id}/favourite")
            .route(web::put().to(favourite::favourite))
            .route(web::delete().to(unfavourite::unfavourite)),
    );
    cfg.service(
        web::resource("/market/listings/{id}/reports")
            .wrap(from_fn(idempotent))
            .route(web::post().to(report::report)),
    );
    cfg.service(
        web::resource("/market/listings/{id}/inquiries")
            .wrap(from_fn(idempotent))
            .route(web::post().to(open_inquiry::open_inquiry)),
    );
    cfg.service(
        web::resource("/market/merchants/{id}").route(web::get().to(get_merchant::get_merchant)),
    );
    cfg.service(
        web::resource("/market/my/listings").route(web::get().to(my_listings::my_listings)),
    );
    cfg.service(web::resource("/market/my/demands").route(web::get().to(my_demands::my_demands)));
    cfg.service(
        web::resource("/market/my/favourites").route(web::get().to(my_favourites::my_favourites)),
    );
    cfg.service(
        web::resource("/market/demands")
            .wrap(from_fn(idempotent))
            .route(web::get().to(list_demands::list_demands))
            .route(web::post().to(post_demand::post_demand)),
    );
    cfg.service(web::resource("/market/demands/{id}").route(web::get().to(get_demand::get_demand)));
    cfg.service(
        web::resource("/market/demands/{id}/matches")
            .route(web::get().to(demand_matches::demand_matches)),
    );
    cfg.service(
        web::resource("/market/demands/{id}/close")
            .route(web::post().to(close_demand::close_demand)),
    );
    cfg.service(
        web::resource("/market/inquiries").route(web::get().to(list_inquiries::list_inquiries)),
    );
    cfg.service(
        web::resource("/market/inquiries/{id}").route(web::get().to(get_inquiry::get_inquiry)),
    );
    cfg.service(
        web::resource("/market/inquiries/{id}/messages")
            .wrap(from_fn(idempotent))
            .route(web::post().to(send_message::send_message)),
    );
    cfg.service(
        web::resource("/market/inquiries/{id}/quotes")
            .wrap(from_fn(idempotent))
            .route(web::post().to(make_quote::make_quote)),
    );
    cfg.service(
        web::resource("/market/quotes/{id}/accept")
            .wrap(from_fn(idempotent))
            .route(web::post().to(accept_quote::accept_quote)),
    );
    cfg.service(web::resource("/market/deals").route(web::get().to(list_deals::list_deals)));
    cfg.service(web::resource("/market/deals/{id}").route(web::get().to(get_deal::get_deal)));
    cfg.service(
        web::resource("/market/deals/{id}/deliver")
            .route(web::post().to(deliver_deal::deliver_deal)),
    );
    cfg.service(
        web::resource("/market/deals/{id}/complete")
            .route(web::post().to(complete_deal::complete_deal)),
    );
    cfg.service(
        web::resource("/market/deals/{id}/cancel")
            .wrap(from_fn(idempotent))
            .route(web::post().to(cancel_deal::cancel_deal)),
    );
    cfg.service(web::resource("/market/stats").route(web::get().to(stats::stats)));
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    apply::apply,
    my_applications::my_applications,
    product_types::product_types,
    create_listing::create_listing,
    search_listings::search_listings,
    get_listing::get_listing,
    update_listing::update_listing,
    submit_listing::submit_listing,
    withdraw_listing::withdraw_listing,
    add_certificate::add_certificate,
    favourite::favourite,
    unfavourite::unfavourite,
    report::report,
    open_inquiry::open_inquiry,
    get_merchant::get_merchant,
    my_listings::my_listings,
    my_demands::my_demands,
    my_favourites::my_favourites,
    post_demand::post_demand,
    list_demands::list_demands,
    get_demand::get_demand,
    demand_matches::demand_matches,
    close_demand::close_demand,
    list_inquiries::list_inquiries,
    get_inquiry::get_inquiry,
    send_message::send_message,
    make_quote::make_quote,
    accept_quote::accept_quote,
    list_deals::list_deals,
    get_deal::get_deal,
    deliver_deal::deliver_deal,
    complete_deal::complete_deal,
    cancel_deal::cancel_deal,
    stats::stats,
))]
pub struct Api;
