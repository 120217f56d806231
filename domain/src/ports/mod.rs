//! Ports: the traits through which the domain reaches infrastructure, one folder per port
//! with its adapters beside it. Every adapter of a port passes the same conformance suite
//! (`domain/tests/<port>_conformance.rs`), so the embedded footprint and production behave
//! alike. A port never leaks its backend's types to callers.

pub mod blob;
pub mod generations;
pub mod geo;
pub mod pubsub;
pub mod queue;
pub mod rate_limit;
pub mod redis_conn;
pub mod search;

/// A failure of the infrastructure behind a port. Callers treat it as "try again later"
/// (503 at the HTTP edge); it never carries anything meant for an end user.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// The backend did not answer or answered with an error.
    #[error("{backend} failed: {message}")]
    Backend {
        /// Which backend (`sqlite`, `postgres`, `redis`, `s3`, `filesystem` …).
        backend: &'static str,
        /// What went wrong, for logs.
        message: String,
    },
    /// The data the backend returned could not be understood.
    #[error("corrupt data from {backend}: {message}")]
    Corrupt {
        /// Which backend.
        backend: &'static str,
        /// What was wrong with it.
        message: String,
    },
}

impl PortError {
    /// Shorthand for a [`PortError::Backend`].
    pub fn backend(backend: &'static str, err: impl std::fmt::Display) -> Self {
        Self::Backend {
            backend,
            message: err.to_string(),
        }
    }
}

impl From<sea_orm::DbErr> for PortError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::backend("database", err)
    }
}

impl From<redis::RedisError> for PortError {
    fn from(err: redis::RedisError) -> Self {
        Self::backend("redis", err)
    }
}
