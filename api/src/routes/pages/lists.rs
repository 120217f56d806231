//! What the list pages share: filter choices, the districts' names, links to the next
//! page of a cursor-paged list, path ids, dates.

use actix_web::{HttpRequest, web};
use uuid::Uuid;
use wufei_domain::{Platform, catalog, paging::PageQuery};

use super::render::Fault;

/// Items on one page of a list.
pub const PAGE_SIZE: u64 = 20;

/// A choice in a filter: its value, its label, whether it is chosen.
pub struct Choice {
    /// The value sent.
    pub value: String,
    /// What people read.
    pub label: String,
    /// Chosen now.
    pub selected: bool,
}

/// The choices of `options` (value, label) with `current` chosen.
pub fn choices<'a>(
    options: impl IntoIterator<Item = (&'a str, &'a str)>,
    current: Option<&str>,
) -> Vec<Choice> {
    options
        .into_iter()
        .map(|(value, label)| Choice {
            value: value.to_string(),
            label: label.to_string(),
            selected: current == Some(value),
        })
        .collect()
}

/// The districts: code and name, in the plan's order.
pub async fn districts(platform: &Platform) -> Result<Vec<(String, String)>, Fault> {
    Ok(catalog::districts(&platform.db)
        .await?
        .into_iter()
        .map(|d| (d.code, d.name))
        .collect())
}

/// The name of district `code` (the code itself when unknown).
pub fn district_name(districts: &[(String, String)], code: &str) -> String {
    districts
        .iter()
        .find(|d| d.0 == code)
        .map_or_else(|| code.to_string(), |d| d.1.clone())
}

/// The link to the next page of a list: the query string of `req` with `cursor` replaced.
pub fn next_link(req: &HttpRequest, cursor: Option<&str>) -> Option<String> {
    let cursor = cursor?;
    let mut pairs: Vec<(String, String)> =
        web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map(web::Query::into_inner)
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| k != "cursor" && k != "sent")
            .collect();
    pairs.push(("cursor".into(), cursor.to_string()));
    let query = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    Some(format!("{}?{query}", req.path()))
}

/// Percent-encodes a query component.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One page of a cursor-paged list: the cursor of `req`, [`PAGE_SIZE`] items.
pub fn page_query(cursor: Option<String>) -> PageQuery {
    PageQuery {
        limit: Some(PAGE_SIZE),
        cursor,
    }
}

/// Parses a path id; anything else is the 404 page.
pub fn parse_id(raw: &str) -> Result<Uuid, Fault> {
    Uuid::parse_str(raw).map_err(|_| Fault::NotFound)
}

/// A time as its Beijing date, `2026-12-07`.
pub fn cn_date(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map_or_else(String::new, |t| {
        (t + chrono::Duration::hours(8))
            .format("%Y-%m-%d")
            .to_string()
    })
}

/// The districts as a filter's choices, `current` chosen.
pub fn district_choices(districts: &[(String, String)], current: Option<&str>) -> Vec<Choice> {
    choices(
        districts.iter().map(|d| (d.0.as_str(), d.1.as_str())),
        current,
    )
}
