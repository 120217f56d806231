//! The rate-limit port: counts hits per key in a window, shared by every API instance in
//! production (Redis) and in-process in the embedded footprint.
//!
//! Adapters: [`embedded::EmbeddedRateLimiter`] and [`redis::RedisRateLimiter`].

pub mod embedded;
pub mod redis;

use std::time::Duration;

use async_trait::async_trait;

use super::PortError;

/// A limit: at most `max` hits per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Hits allowed in one window.
    pub max: u32,
    /// The window.
    pub window: Duration,
}

/// The answer to one hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Allowed; `remaining` more hits fit in the current window.
    Allowed {
        /// Hits left in this window.
        remaining: u32,
    },
    /// Refused; try again after `retry_after` (never zero).
    Limited {
        /// When a hit will be allowed again.
        retry_after: Duration,
    },
}

/// The rate-limit port.
#[async_trait]
pub trait RateLimiter: Send + Sync + 'static {
    /// Counts one hit against `key` under `limit` and says whether it is allowed. A refused
    /// hit does not count.
    async fn hit(&self, key: &str, limit: Limit) -> Result<Decision, PortError> {
        self.hit_all(&[(key, limit)]).await
    }

    /// Counts one hit against every key of `checks` at once, atomically: allowed only when
    /// each key allows it, and then each counts it (`remaining` is the least of them);
    /// refused when any key refuses, and then none counts it (`retry_after` is the longest
    /// wait among the refusing keys). A request limited per client and per user asks both
    /// in one call, which on Redis is one round trip. No checks: allowed.
    async fn hit_all(&self, checks: &[(&str, Limit)]) -> Result<Decision, PortError>;

    /// Forgets `key` (after a successful login, say).
    async fn reset(&self, key: &str) -> Result<(), PortError>;

    /// Whether the backend answers.
    async fn ping(&self) -> Result<(), PortError>;
}
