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
    listed(req.headers().get_all(header::IF_NONE_MATCH), tag)
}

/// Whether `If-None-Match` values name `tag` (`*`, or one of a list).
fn listed<'a>(values: impl Iterator<Item = &'a HeaderValue>, tag: &str) -> bool {
    values
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
    let mut ok = HttpResponse::Ok();
    ok.content_type(content_type);
    revalidated(req, &tag, &format!("public, max-age={max_age}"), ok, body)
}

/// `ok` with `body`, ETag `tag` and `Cache-Control: control`; or a 304 with the same
/// headers when `If-None-Match` names `tag`.
pub fn revalidated(
    req: &HttpRequest,
    tag: &str,
    control: &str,
    mut ok: actix_web::HttpResponseBuilder,
    body: impl actix_web::body::MessageBody + 'static,
) -> HttpResponse {
    let mut res = if matches(req, tag) {
        HttpResponse::NotModified().finish()
    } else {
        ok.body(body)
    };
    if let Ok(v) = HeaderValue::from_str(tag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(control) {
        res.headers_mut().insert(header::CACHE_CONTROL, v);
    }
    res
}

/// The generation the public cache is keyed by (see [`wufei_domain::ports::generations`]).
pub const PUBLIC_GENERATION: &str = "public";

/// Most answers one instance keeps.
const MAX_ENTRIES: usize = 4096;
/// Most bytes of answers one instance keeps.
const MAX_BYTES: usize = 32 * 1024 * 1024;
/// Longest an answer is kept even when no change is heard of: the bound on staleness if a
/// bump is ever lost (Redis away at the moment of a write).
const MAX_KEEP: std::time::Duration = std::time::Duration::from_secs(60);

/// One kept answer.
struct Kept {
    at: std::time::Instant,
    /// The answer's headers (ETag, Cache-Control, Content-Type, and whatever else the
    /// handler set: a page's security headers and `Vary`).
    headers: header::HeaderMap,
    body: bytes::Bytes,
}

#[derive(Default)]
struct Entries {
    generation: u64,
    bytes: usize,
    map: std::collections::HashMap<String, std::sync::Arc<Kept>>,
}

/// Public answers this instance has computed, for anonymous GETs of resources wrapped in
/// [`cached`], kept under the generation read before computing them. Every successful
/// administrator write bumps the generation after its commit ([`invalidate_on_admin_write`]),
/// so the next request to any instance reads the new one and computes afresh. Bounded in
/// entries and bytes; when full, new answers are not kept.
#[derive(Default)]
pub struct PublicCache {
    entries: std::sync::Mutex<Entries>,
}

impl PublicCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn get(&self, generation: u64, key: &str) -> Option<std::sync::Arc<Kept>> {
        let e = self.lock();
        (e.generation == generation)
            .then(|| e.map.get(key).cloned())
            .flatten()
            .filter(|k| k.at.elapsed() < MAX_KEEP)
    }

    fn put(&self, generation: u64, key: String, kept: Kept) {
        let mut e = self.lock();
        // Another generation (a newer one; an older one only after Redis lost its counter):
        // everything kept belongs to the old one.
        if generation != e.generation {
            *e = Entries {
                generation,
                ..Entries::default()
            };
        }
        if e.map.len() >= MAX_ENTRIES || e.bytes + kept.body.len() > MAX_BYTES {
            return;
        }
        e.bytes += kept.body.len();
        if let Some(old) = e.map.insert(key, std::sync::Arc::new(kept)) {
            e.bytes -= old.body.len();
        }
    }

    /// Forgets everything (a bump could not be written: at least this instance is fresh).
    fn clear(&self) {
        let mut e = self.lock();
        e.map.clear();
        e.bytes = 0;
    }
}

/// Whether `req` may be answered from, and kept in, the public cache: an anonymous GET
/// without a search text (search answers follow the index, which the worker writes).
fn cacheable(req: &actix_web::dev::ServiceRequest) -> bool {
    req.method() == actix_web::http::Method::GET
        && !req.headers().contains_key(header::AUTHORIZATION)
        && !req
            .query_string()
            .split('&')
            .any(|kv| kv.starts_with("q=") && kv.len() > 2)
}

/// Middleware for public resources whose answers change only through administrators'
/// writes: anonymous GETs are answered from [`PublicCache`] when it holds the answer for
/// the current generation (with the same ETag, `Cache-Control` and 304 as the handler's).
pub async fn cached(
    mut req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    use actix_web::web::Data;
    use wufei_domain::Platform;

    let (Some(platform), Some(cache)) = (
        req.app_data::<Data<Platform>>().cloned(),
        req.app_data::<Data<PublicCache>>().cloned(),
    ) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    if !cacheable(&req) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let generation = match platform.generations.current(PUBLIC_GENERATION).await {
        Ok(g) => g,
        // Without the generation nothing kept can be trusted: compute.
        Err(_) => return Ok(next.call(req).await?.map_into_boxed_body()),
    };
    // The path and query, and what else an answer may depend on: the cookies (anonymous
    // clients carry none but the pages' display preference) and the address the client
    // used (a page's canonical links name it when `WUFEI_PUBLIC_URL` is unset).
    let mut key = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_owned(), |p| p.as_str().to_owned());
    for name in ["cookie", "host", "x-forwarded-host", "x-forwarded-proto"] {
        key.push('#');
        key.push_str(
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default(),
        );
    }
    if let Some(kept) = cache.get(generation, &key) {
        let tag = kept
            .headers
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let mut res = if matches(req.request(), &tag) {
            HttpResponse::NotModified().finish()
        } else {
            HttpResponse::Ok().body(kept.body.clone())
        };
        for (name, value) in &kept.headers {
            res.headers_mut().insert(name.clone(), value.clone());
        }
        return Ok(req.into_response(res));
    }
    // Computed without the client's `If-None-Match`, so that the answer kept is the whole
    // one (a 304 could not be kept); the 304 is decided here afterwards.
    let revalidating: Vec<HeaderValue> = req.headers_mut().remove(header::IF_NONE_MATCH).collect();
    let res = next.call(req).await?;
    let public = res
        .headers()
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("public"));
    let (Some(etag), Some(control)) = (
        res.headers().get(header::ETAG).cloned(),
        res.headers().get(header::CACHE_CONTROL).cloned(),
    ) else {
        return Ok(res.map_into_boxed_body());
    };
    if res.status() != actix_web::http::StatusCode::OK || !public {
        return Ok(res.map_into_boxed_body());
    }
    let not_modified = listed(revalidating.iter(), etag.to_str().unwrap_or_default());
    let mut headers = res.headers().clone();
    headers.remove(header::CONTENT_LENGTH);
    let (req, res) = res.into_parts();
    let (res, body) = res.into_parts();
    let body = actix_web::body::to_bytes(body)
        .await
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.into()))?;
    cache.put(
        generation,
        key,
        Kept {
            at: std::time::Instant::now(),
            headers,
            body: body.clone(),
        },
    );
    if not_modified {
        let mut res = HttpResponse::NotModified().finish();
        res.headers_mut().insert(header::ETAG, etag);
        res.headers_mut().insert(header::CACHE_CONTROL, control);
        return Ok(actix_web::dev::ServiceResponse::new(req, res).map_into_boxed_body());
    }
    Ok(actix_web::dev::ServiceResponse::new(req, res.set_body(body)).map_into_boxed_body())
}

/// Middleware for the whole API: after a successful write under `/v1/admin/` (its
/// transaction committed), bumps the public generation so that every instance computes
/// public answers afresh. If the bump cannot be written (Redis away), this instance forgets
/// what it keeps and the others' entries age out within a minute.
pub async fn invalidate_on_admin_write(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    use actix_web::{http::Method, web::Data};
    use wufei_domain::Platform;

    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && req.path().starts_with("/v1/admin/");
    let handles = writes.then(|| {
        (
            req.app_data::<Data<Platform>>().cloned(),
            req.app_data::<Data<PublicCache>>().cloned(),
        )
    });
    let res = next.call(req).await?;
    if let Some((Some(platform), cache)) = handles
        && res.status().is_success()
        && let Err(e) = platform.generations.bump(PUBLIC_GENERATION).await
    {
        tracing::warn!(error = %e, "public cache generation not bumped; entries age out");
        if let Some(cache) = cache {
            cache.clear();
        }
    }
    Ok(res.map_into_boxed_body())
}
