//! Middleware every request passes, outermost first:
//! 1. [`edge`]: request id (taken from `X-Request-Id` when sane, echoed back), a tracing
//!    span, the latency histogram by route pattern, and the problem+json fallback that turns
//!    any bare error response (unknown route, wrong method, framework refusals) into a
//!    problem document with a stable code.
//! 2. [`authenticate`]: reads a bearer token once and leaves the outcome in the request's
//!    extensions for the extractors and the rate limiter.
//! 3. [`rate_limit`]: per client address and per signed-in user; 429 with `Retry-After`.
//!    When the limiter's backend is down it lets requests through (and logs), rather than
//!    turning an outage of Redis into an outage of the API.

use std::{net::IpAddr, time::Instant};

use actix_web::{
    Error, HttpMessage,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{StatusCode, header},
    middleware::Next,
    web,
};
use tracing::Instrument;
use wufei_domain::{
    Platform,
    auth::Principal,
    ports::rate_limit::{Decision, Limit},
};

use crate::problem::{ApiError, problem_response};

/// The request's id, also in the `X-Request-Id` response header.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The outcome of reading the bearer token, left in the request's extensions.
#[derive(Debug, Clone)]
pub enum AuthState {
    /// A valid access token.
    Valid(Principal),
    /// A token was sent and refused (expired, forged …).
    Invalid(&'static str, String),
}

fn sane_request_id(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Request id, span, metrics and the problem+json fallback.
pub async fn edge(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane_request_id(v))
        .map(str::to_string)
        // A thread-local generator: no system call per request, unlike `Uuid::new_v4`.
        .unwrap_or_else(|| {
            uuid::Builder::from_random_bytes(rand::random())
                .into_uuid()
                .to_string()
        });
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().to_string();
    let platform = req.app_data::<web::Data<Platform>>().cloned();
    let span = tracing::info_span!("http", %method, path = %req.path(), request_id = %request_id);
    // Inner middleware answers refusals as responses, so everything passes through here.
    let mut res = next
        .call(req)
        .instrument(span.clone())
        .await?
        .map_into_boxed_body();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    let status = res.status();
    // Framework refusals come without a body type or as plain text; our own answers (problem
    // documents, the readiness report) carry JSON and are left alone.
    let bare = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.as_bytes().starts_with(b"text/plain"));
    if (status.is_client_error() || status.is_server_error()) && bare {
        let (code, detail) = fallback(status);
        let allow = res.headers().get(header::ALLOW).cloned();
        let mut replacement = problem_response(status, code, detail.into(), vec![]);
        if let Some(a) = allow {
            replacement.headers_mut().insert(header::ALLOW, a);
        }
        for name in [header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
            if let Some(v) = res.headers().get(&name).cloned() {
                replacement.headers_mut().insert(name, v);
            }
        }
        res = res.into_response(replacement);
    }
    if let Ok(v) = header::HeaderValue::from_str(&request_id) {
        res.headers_mut()
            .insert(header::HeaderName::from_static("x-request-id"), v);
    }
    let elapsed = started.elapsed();
    if let Some(p) = platform {
        p.metrics
            .http_request(&method, &route, status.as_u16(), elapsed);
        if method != "GET" && status.is_success() {
            // A successful write may have staged jobs: wake this process's relay now rather
            // than at its next poll.
            p.outbox_signal.committed();
        }
    }
    span.in_scope(|| {
        tracing::info!(%route, status = status.as_u16(), latency_ms = elapsed.as_secs_f64() * 1000.0, "request")
    });
    Ok(res)
}

fn fallback(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::NOT_FOUND => ("route_not_found", "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this route does not accept that method",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("body_too_large", "the request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "the body's media type is not accepted here",
        ),
        StatusCode::BAD_REQUEST => ("bad_request", "the request could not be understood"),
        StatusCode::UNAUTHORIZED => ("unauthenticated", "authentication is required"),
        StatusCode::FORBIDDEN => ("forbidden", "not allowed"),
        StatusCode::SERVICE_UNAVAILABLE => (
            "service_unavailable",
            "a dependency is unavailable; try again shortly",
        ),
        s if s.is_server_error() => ("internal_error", "the server failed to handle this request"),
        _ => ("request_refused", "the request was refused"),
    }
}

/// Reads the bearer token, if any: its signature and claims, then whether its account's
/// tokens were revoked since it was issued (see `wufei_domain::auth::revocations`).
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_string());
    if let (Some(token), Some(platform)) = (token, req.app_data::<web::Data<Platform>>().cloned()) {
        let state = match platform.auth.authenticate_issued(&token) {
            Ok((p, issued_ms)) => match platform
                .revocations
                .check(
                    &platform.db,
                    platform.generations.as_ref(),
                    platform.auth.access_ttl_secs(),
                    p.user_id,
                    issued_ms,
                )
                .await
            {
                Ok(()) => AuthState::Valid(p),
                Err(wufei_domain::Error::Unauthenticated { code, message }) => {
                    AuthState::Invalid(code, message)
                }
                Err(e) => return Ok(req.error_response(crate::problem::ApiError::from(e))),
            },
            Err(wufei_domain::Error::Unauthenticated { code, message }) => {
                AuthState::Invalid(code, message)
            }
            Err(_) => AuthState::Invalid("token_invalid", "the access token is not valid".into()),
        };
        req.extensions_mut().insert(state);
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// The client's address: the peer, or the first `X-Forwarded-For` hop when trusted.
pub fn client_addr(req: &actix_web::HttpRequest, trust_forwarded: bool) -> String {
    if trust_forwarded
        && let Some(ip) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok())
    {
        return ip.to_string();
    }
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Per-client and per-user request limits.
pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let path = req.path();
    let exempt = matches!(path, "/healthz" | "/readyz" | "/metrics");
    if let (false, Some(platform)) = (exempt, req.app_data::<web::Data<Platform>>().cloned()) {
        let minute = std::time::Duration::from_secs(60);
        let per = |max| Limit {
            max,
            window: minute,
        };
        let client = format!(
            "client:{}",
            client_addr(req.request(), platform.settings.trust_forwarded_for)
        );
        let user = match req.extensions().get::<AuthState>() {
            Some(AuthState::Valid(p)) => Some(format!("user:{}", p.user_id)),
            _ => None,
        };
        let mut checks = vec![(
            client.as_str(),
            per(platform.settings.rate_limit_per_client),
        )];
        if let Some(user) = &user {
            checks.push((user.as_str(), per(platform.settings.rate_limit_per_user)));
        }
        // Both limits in one call: one round trip on Redis, and a refused request counts
        // against neither.
        match platform.limiter.hit_all(&checks).await {
            Ok(Decision::Allowed { .. }) => {}
            Ok(Decision::Limited { retry_after }) => {
                let refusal = ApiError::from(wufei_domain::Error::RateLimited { retry_after });
                return Ok(req.error_response(refusal));
            }
            // Logged once per outage by the Redis circuit breaker, not once per request.
            Err(e) => {
                tracing::debug!(error = %e, "rate limiter unavailable; letting the request through")
            }
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}
