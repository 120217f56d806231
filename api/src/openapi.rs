//! The OpenAPI document, generated from the handlers' annotations: this module holds what
//! the whole API says about itself (its description, its tags, the problem type, bearer
//! authentication); each resource's folder contributes its own paths (`routes::documents`).
//! The checked-in copy at `openapi/openapi.json` is compared with it by a test, so it cannot
//! drift.

use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use crate::{problem::Problem, routes};

/// Schema names two types share: the document has always shown the mall's type under each
/// (a pickup's `status` and `items` point at them too). Renaming either changes the
/// published contract, so they are kept as they were until that is decided; any other
/// clash fails `no_two_types_share_a_schema_name`.
const KNOWN_CLASHES: [&str; 2] = ["ItemView", "Status"];

/// Wufei's API, without its paths (see [`openapi`]).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Wufei (无废) API",
        description = "Backend of the Zero-Waste City programme: door-to-door recycling, green points, the recycled construction-material marketplace and public disclosure. Errors are application/problem+json with a stable `code`.",
        version = "0.1.0"
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

/// The whole document: [`ApiDoc`] with every resource's part merged in.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = merged(std::iter::once(ApiDoc::openapi()).chain(routes::documents()));
    if let Some(components) = doc.components.as_mut() {
        use utoipa::PartialSchema;
        use wufei_domain::mall;
        components
            .schemas
            .insert(KNOWN_CLASHES[0].into(), mall::ItemView::schema());
        components
            .schemas
            .insert(KNOWN_CLASHES[1].into(), mall::Status::schema());
    }
    doc
}

/// `parts` merged into one document: paths and components together (where two parts name
/// a schema alike, the first's is kept).
pub fn merged(
    parts: impl IntoIterator<Item = utoipa::openapi::OpenApi>,
) -> utoipa::openapi::OpenApi {
    let mut parts = parts.into_iter();
    let mut doc = parts.next().unwrap_or_default();
    for part in parts {
        doc.merge(part);
    }
    doc
}

/// The document as pretty JSON with a trailing newline (the checked-in form).
pub fn document() -> String {
    let mut json = openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    json.push('\n');
    json
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// Two types that share a schema name leave one of them undocumented, silently: every
    /// resource's schemas are compared by name, and only the known clashes may differ.
    #[test]
    fn no_two_types_share_a_schema_name() {
        let mut seen: BTreeMap<String, serde_json::Value> = BTreeMap::new();
        let mut clashes = std::collections::BTreeSet::new();
        for part in routes::documents() {
            for (name, schema) in part.components.map(|c| c.schemas).unwrap_or_default() {
                let schema = serde_json::to_value(schema).unwrap_or_default();
                match seen.get(&name) {
                    Some(other) if *other != schema => {
                        clashes.insert(name);
                    }
                    Some(_) => {}
                    None => {
                        seen.insert(name, schema);
                    }
                }
            }
        }
        assert_eq!(
            clashes.into_iter().collect::<Vec<_>>(),
            KNOWN_CLASHES,
            "two types share a schema name; rename one with #[schema(as = …)]"
        );
    }
}
