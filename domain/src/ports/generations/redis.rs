//! Generations in Redis, for the production footprint: `{prefix}:gen:{name}` holds the
//! counter (`GET`, `INCR`), so a bump through any instance is what every instance reads
//! next. The keys have no expiry: they are a handful of integers, and a counter that
//! vanished would start again at 0 and could meet an old cache entry's generation.

use async_trait::async_trait;

use super::Generations;
use crate::ports::{PortError, redis_conn::RedisConn};

/// Counters in Redis.
#[derive(Clone)]
pub struct RedisGenerations {
    conn: RedisConn,
    prefix: String,
}

impl RedisGenerations {
    /// Counters under `{prefix}:gen:`.
    pub fn new(conn: RedisConn, prefix: String) -> Self {
        Self { conn, prefix }
    }

    fn key(&self, name: &str) -> String {
        format!("{}:gen:{name}", self.prefix)
    }
}

#[async_trait]
impl Generations for RedisGenerations {
    async fn current(&self, name: &str) -> Result<u64, PortError> {
        let mut conn = self.conn.clone();
        let v: Option<u64> = redis::cmd("GET")
            .arg(self.key(name))
            .query_async(&mut conn)
            .await?;
        Ok(v.unwrap_or(0))
    }

    async fn bump(&self, name: &str) -> Result<u64, PortError> {
        let mut conn = self.conn.clone();
        Ok(redis::cmd("INCR")
            .arg(self.key(name))
            .query_async(&mut conn)
            .await?)
    }
}
