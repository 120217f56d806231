//! The domain's error: every way a service can refuse or fail, each with the stable `code`
//! clients see. The HTTP edge maps variants to statuses; nothing here knows about HTTP.

use std::time::Duration;

use crate::{db, ports::PortError};

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field's name as the client sent it (`items[0].category_id`).
    pub field: String,
    /// Machine-readable reason (`required`, `too_long`, `out_of_range`, `invalid`).
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Everything a domain service can answer instead of success.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is well-formed but its values are not acceptable (422).
    #[error("validation failed: {message}")]
    Validation {
        /// Summary.
        message: String,
        /// Per-field reasons.
        fields: Vec<FieldError>,
    },
    /// A request that is wrong as a whole (400), with its own code.
    #[error("{message}")]
    BadRequest {
        /// Stable code.
        code: &'static str,
        /// Explanation.
        message: String,
    },
    /// The object does not exist, or the caller may not know that it does (404).
    #[error("{what} not found")]
    NotFound {
        /// What was looked for (`pickup`, `address`).
        what: &'static str,
    },
    /// The object's state does not allow this (409).
    #[error("{message}")]
    Conflict {
        /// Stable code (`slot_full`, `illegal_transition`, `already_exists`).
        code: &'static str,
        /// Explanation.
        message: String,
    },
    /// Unprocessable for a business reason other than field validation (422).
    #[error("{message}")]
    Unprocessable {
        /// Stable code.
        code: &'static str,
        /// Explanation.
        message: String,
    },
    /// No or bad credentials (401).
    #[error("{message}")]
    Unauthenticated {
        /// Stable code (`invalid_credentials`, `token_expired`, `refresh_token_reused` …).
        code: &'static str,
        /// Explanation.
        message: String,
    },
    /// Authenticated but not allowed (403).
    #[error("{message}")]
    Forbidden {
        /// Explanation.
        message: String,
    },
    /// Too many requests (429).
    #[error("too many requests; retry after {retry_after:?}")]
    RateLimited {
        /// When to retry.
        retry_after: Duration,
    },
    /// A third-party service answered with an error we pass on (502), e.g. WeChat.
    #[error("{service}: {message}")]
    Upstream {
        /// Which service.
        service: &'static str,
        /// Stable code.
        code: &'static str,
        /// Explanation safe to show.
        message: String,
    },
    /// Infrastructure behind a port failed (503).
    #[error(transparent)]
    Port(#[from] PortError),
    /// The search engine failed or did not answer (503 `search_unavailable`); the rest of
    /// the API is unaffected.
    #[error("search unavailable: {0}")]
    SearchUnavailable(PortError),
    /// The database failed; mapped centrally (unique violation 409, unavailable 503,
    /// anything else 500).
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
    /// A bug or an impossible state (500). The message is logged, never sent.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    /// A 422 with one field error.
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::Validation {
            message: format!("{field}: {message}"),
            fields: vec![FieldError::new(field, code, message)],
        }
    }

    /// A 409 with a code.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }

    /// A 401 with a code.
    pub fn unauthenticated(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unauthenticated {
            code,
            message: message.into(),
        }
    }

    /// A 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden {
            message: message.into(),
        }
    }

    /// A search engine's failure (503 `search_unavailable`).
    pub fn search(err: PortError) -> Self {
        Self::SearchUnavailable(err)
    }

    /// Whether this is a database unique-key violation.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Database(e) if db::is_unique_violation(e))
    }
}

/// The domain's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
