//! The OpenAPI document, generated from the handlers' annotations. The checked-in copy at
//! `openapi/openapi.json` is compared with it by a test, so it cannot drift.

use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use crate::{problem::Problem, routes};

/// Wufei's API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Wufei (无废) API",
        description = "Backend of the Zero-Waste City programme: door-to-door recycling, green points, the recycled construction-material marketplace and public disclosure. Errors are application/problem+json with a stable `code`.",
        version = "0.1.0"
    ),
    paths(
        routes::health::healthz,
        routes::health::readyz,
        routes::health::metrics,
        routes::auth::wechat::login,
        routes::auth::password::login,
        routes::auth::refresh::refresh,
        routes::auth::logout::logout,
        routes::auth::session::session,
        routes::me::get::get,
        routes::me::update::update,
        routes::reference::districts,
        routes::reference::categories,
        routes::reference::rate_history,
        routes::slots::pickup_slots,
        routes::admin::categories::list::list,
        routes::admin::categories::create::create,
        routes::admin::categories::update::update,
        routes::admin::categories::add_rate::add_rate,
        routes::admin::districts::update::update,
        routes::admin::communities::create::create,
        routes::admin::slot_templates::list::list,
        routes::admin::slot_templates::create::create,
        routes::admin::slot_templates::update::update,
        routes::uploads::create::create,
        routes::uploads::content::content,
        routes::addresses::list::list,
        routes::addresses::create::create,
        routes::addresses::update::update,
        routes::addresses::delete::delete,
        routes::pickups::create::create,
        routes::pickups::list::list,
        routes::pickups::get::get,
        routes::pickups::cancel::cancel,
        routes::pickups::reschedule::reschedule,
        routes::pickups::rating::rating,
        routes::pickups::complaint::complaint,
        routes::pickups::dispute::dispute,
        routes::points::account::account,
        routes::points::entries::entries,
        routes::points::earnings::earnings,
        routes::admin::points::adjust::adjust,
        routes::admin::points::budget::budget,
        routes::admin::points::reconciliation::reconciliation,
        routes::admin::points::resident::account,
        routes::admin::points::resident::entries,
        routes::admin::points::resolve::resolve,
        routes::applications::create::create,
        routes::applications::mine::mine,
        routes::applications::amend::amend,
        routes::recycler::shift::shift,
        routes::recycler::location::location,
        routes::recycler::offers::offers,
        routes::recycler::accept::accept,
        routes::recycler::reject::reject,
        routes::recycler::pickups::pickups,
        routes::recycler::depart::depart,
        routes::recycler::arrive::arrive,
        routes::recycler::no_show::no_show,
        routes::recycler::complete::complete,
        routes::admin::applications::applications,
        routes::admin::approve::approve,
        routes::admin::reject::reject,
        routes::admin::pickups::pickups,
        routes::admin::assign::assign,
        routes::notifications::list::list,
        routes::notifications::read::read,
        routes::notifications::read_all::read_all,
        routes::ws::connect,
        routes::points::qr_token::qr_token,
        routes::devices::deposit::deposit,
        routes::admin::devices::create::create,
        routes::admin::devices::list::list,
        routes::admin::devices::update::update,
        routes::admin::devices::rotate_secret::rotate_secret,
        routes::admin::mall_items::list::list,
        routes::admin::mall_items::create::create,
        routes::admin::mall_items::update::update,
        routes::mall::list_items::list_items,
        routes::mall::get_item::get_item,
        routes::mall::redeem::redeem,
        routes::mall::list_redemptions::list_redemptions,
        routes::mall::get_redemption::get_redemption,
        routes::mall::cancel::cancel,
        routes::mall::lookup::lookup,
        routes::mall::fulfil::fulfil,
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
    tags(
        (name = "operations", description = "Health, readiness, metrics"),
        (name = "auth", description = "Login and sessions"),
        (name = "me", description = "The caller's profile"),
        (name = "reference", description = "Districts and the recyclable catalogue"),
        (name = "uploads", description = "Photos and documents"),
        (name = "addresses", description = "Residents' saved addresses"),
        (name = "pickups", description = "Booking door-to-door pickups"),
        (name = "applications", description = "Becoming a recycler"),
        (name = "recycler", description = "The recycler's day: shift, offers, pickups"),
        (name = "admin", description = "Administration, scoped by district"),
        (name = "notifications", description = "The caller's in-app inbox"),
        (name = "points", description = "Green points: balance, expiring lots, ledger lines"),
        (name = "mall", description = "The points mall: items, redemptions, fulfilment at stations"),
        (name = "realtime", description = "The WebSocket that pushes offers and status changes"),
        (name = "devices", description = "Smart devices' signed deposits (HMAC, no bearer token)"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .build(),
                ),
            );
        }
    }
}

/// The document as pretty JSON with a trailing newline (the checked-in form).
pub fn document() -> String {
    let mut json = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    json.push('\n');
    json
}
