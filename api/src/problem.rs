//! The one error type of the HTTP edge. Every refusal and failure leaves the server as
//! `application/problem+json` (RFC 9457) with a stable `code`; see the table in
//! [`ApiError::parts`]. A 5xx body never carries internals: the cause goes to the log, the
//! client gets the request id to quote.

use actix_web::{
    HttpRequest, HttpResponse, ResponseError,
    error::{JsonPayloadError, PathError, QueryPayloadError, UrlencodedError},
    http::{StatusCode, header},
};
use serde::Serialize;
use wufei_domain::{Error, error::FieldError};

/// The problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the problem type (`/problems/<code>`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the type.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// Stable machine-readable code.
    pub code: String,
    /// Per-field reasons, for validation failures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Every error the HTTP edge answers with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// From a domain service.
    #[error(transparent)]
    Domain(#[from] Error),
    /// A request the edge itself refused before any service ran.
    #[error("{detail}")]
    Edge {
        /// Status.
        status: StatusCode,
        /// Stable code.
        code: &'static str,
        /// Explanation.
        detail: String,
    },
}

impl ApiError {
    /// An edge error.
    pub fn edge(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self::Edge {
            status,
            code,
            detail: detail.into(),
        }
    }

    /// Status, code, title, detail and field errors.
    ///
    /// | domain error | status | code |
    /// |---|---|---|
    /// | Validation | 422 | `validation_failed` |
    /// | BadRequest | 400 | its own |
    /// | NotFound | 404 | `not_found` |
    /// | Conflict | 409 | its own |
    /// | Unprocessable | 422 | its own |
    /// | Unauthenticated | 401 | its own |
    /// | Forbidden | 403 | `forbidden` |
    /// | RateLimited | 429 | `rate_limited` |
    /// | Upstream | 502 (503 when unavailable) | its own |
    /// | Port | 503 | `service_unavailable` |
    /// | SearchUnavailable | 503 | `search_unavailable` |
    /// | Database: unique violation | 409 | `conflict` |
    /// | Database: unavailable (lost or terminated connection, pool exhausted, deadlock …) | 503 | `service_unavailable` |
    /// | Database: other, Internal | 500 | `internal_error` |
    fn parts(&self) -> (StatusCode, &'static str, String, Vec<FieldError>) {
        use StatusCode as S;
        match self {
            ApiError::Edge {
                status,
                code,
                detail,
            } => (*status, code, detail.clone(), vec![]),
            ApiError::Domain(e) => match e {
                Error::Validation { message, fields } => (
                    S::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    message.clone(),
                    fields.clone(),
                ),
                Error::BadRequest { code, message } => (S::BAD_REQUEST, code, message.clone(), vec![]),
                Error::NotFound { what } => (S::NOT_FOUND, "not_found", format!("{what} not found"), vec![]),
                Error::Conflict { code, message } => (S::CONFLICT, code, message.clone(), vec![]),
                Error::Unprocessable { code, message } => {
                    (S::UNPROCESSABLE_ENTITY, code, message.clone(), vec![])
                }
                Error::Unauthenticated { code, message } => {
                    (S::UNAUTHORIZED, code, message.clone(), vec![])
                }
                Error::Forbidden { message } => (S::FORBIDDEN, "forbidden", message.clone(), vec![]),
                Error::RateLimited { retry_after } => (
                    S::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!("too many requests; retry after {} s", retry_secs(*retry_after)),
                    vec![],
                ),
                Error::Upstream { code, message, .. } => {
                    let status = if *code == "wechat_unavailable" {
                        S::SERVICE_UNAVAILABLE
                    } else {
                        S::BAD_GATEWAY
                    };
                    (status, code, message.clone(), vec![])
                }
                Error::Port(_) => unavailable(),
                Error::SearchUnavailable(_) => (
                    S::SERVICE_UNAVAILABLE,
                    "search_unavailable",
                    "search is unavailable; try again shortly".into(),
                    vec![],
                ),
                Error::Database(db) if wufei_domain::db::is_unique_violation(db) => (
                    S::CONFLICT,
                    "conflict",
                    "the request conflicts with existing data".into(),
                    vec![],
                ),
                Error::Database(db) if wufei_domain::db::is_unavailable(db) => unavailable(),
                Error::Internal(e) if e.chain().any(|c| c.downcast_ref::<sea_orm::DbErr>().is_some_and(wufei_domain::db::is_unavailable)) => {
                    unavailable()
                }
                Error::Database(_) | Error::Internal(_) => (
                    S::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "the server failed to handle this request; quote the request id when reporting it".into(),
                    vec![],
                ),
            },
        }
    }
}

/// The `Retry-After` (seconds) of a 503 for a dependency that is away for a moment.
pub const UNAVAILABLE_RETRY_AFTER: &str = "1";

fn unavailable() -> (StatusCode, &'static str, String, Vec<FieldError>) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable",
        "a dependency is unavailable; try again shortly".into(),
        vec![],
    )
}

fn retry_secs(d: std::time::Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// A problem+json response for `status` with `code`.
pub fn problem_response(
    status: StatusCode,
    code: &str,
    detail: String,
    errors: Vec<FieldError>,
) -> HttpResponse {
    let body = Problem {
        kind: format!("/problems/{code}"),
        title: status.canonical_reason().unwrap_or("Error").to_string(),
        status: status.as_u16(),
        detail,
        code: code.to_string(),
        errors,
    };
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "application/problem+json"))
        .body(serde_json::to_string(&body).unwrap_or_default())
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code, detail, errors) = self.parts();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // A dependency away for a moment; its own adapter logs the outage once.
            tracing::warn!(error = %self, "request answered 503");
        } else if status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
        }
        let mut res = problem_response(status, code, detail, errors);
        match self {
            ApiError::Domain(Error::RateLimited { retry_after }) => {
                if let Ok(v) = header::HeaderValue::from_str(&retry_secs(*retry_after).to_string())
                {
                    res.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            ApiError::Domain(Error::Unauthenticated { .. }) => {
                res.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer"),
                );
            }
            _ if status == StatusCode::SERVICE_UNAVAILABLE => {
                // A dependency is away for a moment (a lost database connection, Redis
                // restarting): a client that retries after a second usually succeeds.
                res.headers_mut().insert(
                    header::RETRY_AFTER,
                    header::HeaderValue::from_static(UNAVAILABLE_RETRY_AFTER),
                );
            }
            _ => {}
        }
        res
    }
}

/// Malformed or oversize JSON bodies.
pub fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let e = match &err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::edge(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "the request body is too large",
            )
        }
        JsonPayloadError::ContentType => ApiError::edge(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as application/json",
        ),
        JsonPayloadError::Deserialize(de) if de.is_data() => ApiError::edge(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("the JSON body does not have the expected shape: {de}"),
        ),
        JsonPayloadError::Deserialize(de) => ApiError::edge(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not valid JSON: {de}"),
        ),
        _ => ApiError::edge(
            StatusCode::BAD_REQUEST,
            "malformed_body",
            "the request body could not be read",
        ),
    };
    e.into()
}

/// Bad query strings.
pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::edge(
        StatusCode::BAD_REQUEST,
        "invalid_query",
        format!("the query string is not valid: {err}"),
    )
    .into()
}

/// A bad form-encoded body (Open311's request create): 415 when it is not a form, 413 when
/// too large, 422 when a field has the wrong type, 400 otherwise.
pub fn form_error(err: UrlencodedError, _req: &HttpRequest) -> actix_web::Error {
    let e = match &err {
        UrlencodedError::ContentType => ApiError::edge(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as application/x-www-form-urlencoded",
        ),
        UrlencodedError::Overflow { .. } | UrlencodedError::UnknownLength => ApiError::edge(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the request body is too large",
        ),
        UrlencodedError::Parse(_) => ApiError::edge(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("the form does not have the expected fields: {err}"),
        ),
        _ => ApiError::edge(
            StatusCode::BAD_REQUEST,
            "invalid_form",
            format!("the body is not a valid form: {err}"),
        ),
    };
    e.into()
}

/// Bad path parameters (a malformed id, say) read as "no such thing".
pub fn path_error(err: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::edge(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no such resource: {err}"),
    )
    .into()
}
