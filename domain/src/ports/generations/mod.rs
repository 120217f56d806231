//! The generations port: named counters that go up whenever what they stand for changes,
//! shared by every instance in production (Redis) and in-process in the embedded
//! footprint. A cache keys its entries by the generation it read before computing them; a
//! writer bumps the generation after its commit, so every instance's next read of the
//! generation misses the entries computed before the change.
//!
//! Adapters: [`embedded::EmbeddedGenerations`] and [`redis::RedisGenerations`], both
//! passing `domain/tests/generations_conformance.rs`.

pub mod embedded;
pub mod redis;

use async_trait::async_trait;

use super::PortError;

/// Named change counters.
#[async_trait]
pub trait Generations: Send + Sync + 'static {
    /// The current generation of `name` (0 before its first bump).
    async fn current(&self, name: &str) -> Result<u64, PortError>;

    /// Moves `name` to a new generation and returns it (always above every earlier one).
    async fn bump(&self, name: &str) -> Result<u64, PortError>;
}
