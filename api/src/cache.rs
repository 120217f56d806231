//! Public answers that caches and browsers may keep: an `ETag` (a hash of the body),
//! `Cache-Control: public`, and `304 Not Modified` when `If-None-Match` names the current
//! ETag. The body is computed on every request, so a change is visible to the next
//! request after its commit on every instance; the 304 only saves the transfer.

use actix_web::{
    HttpRequest, HttpResponse,
    http::header::{self, HeaderValue},
};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// How long a shared cache may serve a public answer without asking again, seconds.
pub const PUBLIC_MAX_AGE: u32 = 60;

/// The strong ETag of `body`.
pub fn etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// Whether `If-None-Match` of `req` matches `tag` (`*`, or one of a list).
fn matches(req: &HttpRequest, tag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|t| t == "*" || t == tag || t.strip_prefix("W/") == Some(tag))
}

/// A 200 JSON answer of `value` with its ETag and `Cache-Control`, or a 304 when the
/// client already has it.
pub fn public_json(req: &HttpRequest, value: &impl Serialize) -> HttpResponse {
    public_as(req, value, "application/json")
}

/// [`public_json`] under another JSON media type (`application/geo+json`).
pub fn public_as(req: &HttpRequest, value: &impl Serialize, content_type: &str) -> HttpResponse {
    let body = serde_json::to_vec(value).unwrap_or_default();
    public_body(req, body, content_type, PUBLIC_MAX_AGE)
}

/// A 200 answer of `body` (already rendered: a page, a sitemap) with its ETag and
/// `Cache-Control: public, max-age=<max_age>`, or a 304 when the client already has it.
pub fn public_body(
    req: &HttpRequest,
    body: Vec<u8>,
    content_type: &str,
    max_age: u32,
) -> HttpResponse {
    let tag = etag(&body);
    let control = format!("public, max-age={max_age}");
    let mut res = if matches(req, &tag) {
        HttpResponse::NotModified().finish()
    } else {
        HttpResponse::Ok().content_type(content_type).body(body)
    };
    if let Ok(v) = HeaderValue::from_str(&tag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&control) {
        res.headers_mut().insert(header::CACHE_CONTROL, v);
    }
    res
}
