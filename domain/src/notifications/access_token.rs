//! WeChat's access token, fetched once and shared by every task and every instance, and
//! refreshed before it expires.
//!
//! With Redis (production) the token lives at `{prefix}:wechat:access_token` with a TTL of
//! `expires_in − 300 s`, so all instances use one token; WeChat invalidates older tokens
//! when a new one is issued, so instances fetching independently would knock each other's
//! tokens out. Only the holder of `{prefix}:wechat:access_token:lock` (`SET NX PX`) fetches;
//! the others wait briefly and re-read. Without Redis it lives in process memory behind a
//! mutex held across the fetch. The token and the app secret are never logged.

use std::time::{Duration, Instant};

use crate::ports::redis_conn::RedisConn;
use redis::Script;
use tokio::sync::Mutex;

use crate::{
    auth::wechat::{IssuedToken, WechatApiError, WechatClient},
    config::Secret,
    ports::PortError,
};

/// How long the fetch lock is held at most (a fetch that dies leaves it to expire).
const LOCK_TTL: Duration = Duration::from_secs(10);
/// How often a waiting instance re-reads the cache.
const WAIT_STEP: Duration = Duration::from_millis(100);
/// How long an instance waits for another one's fetch before giving up (the job retries).
const WAIT_MAX: Duration = Duration::from_secs(12);

/// Deletes KEYS[1] only when it still holds ARGV[1]: releases our lock, or invalidates a
/// token without deleting a fresher one another instance has just stored.
const DELETE_IF_EQUAL: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// WeChat refused or did not answer.
    #[error(transparent)]
    Wechat(#[from] WechatApiError),
    /// The shared cache failed.
    #[error(transparent)]
    Cache(#[from] PortError),
    /// Another instance held the fetch lock for too long.
    #[error("timed out waiting for another instance to fetch the WeChat access token")]
    Busy,
}

enum Store {
    Memory(Mutex<Option<(Secret, Instant)>>),
    Redis {
        conn: RedisConn,
        key: String,
        lock: String,
        delete_if_equal: Script,
    },
}

/// The shared access token of the WeChat app.
pub struct AccessTokens {
    client: WechatClient,
    store: Store,
}

impl std::fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let store = match self.store {
            Store::Memory(_) => "memory",
            Store::Redis { .. } => "redis",
        };
        f.debug_struct("AccessTokens")
            .field("store", &store)
            .finish_non_exhaustive()
    }
}

impl AccessTokens {
    /// Tokens cached in this process (the embedded footprint).
    pub fn in_memory(client: WechatClient) -> Self {
        Self {
            client,
            store: Store::Memory(Mutex::new(None)),
        }
    }

    /// Tokens shared through Redis under `{prefix}:wechat:access_token`.
    pub fn redis(client: WechatClient, conn: RedisConn, prefix: &str) -> Self {
        let key = format!("{prefix}:wechat:access_token");
        Self {
            client,
            store: Store::Redis {
                conn,
                lock: format!("{key}:lock"),
                key,
                delete_if_equal: Script::new(DELETE_IF_EQUAL),
            },
        }
    }

    /// The WeChat client the tokens are for.
    pub fn client(&self) -> &WechatClient {
        &self.client
    }

    /// A valid token: the cached one, or a fresh one fetched by exactly one caller.
    pub async fn get(&self) -> Result<Secret, TokenError> {
        match &self.store {
            Store::Memory(cell) => {
                let mut cached = cell.lock().await;
                if let Some((token, until)) = cached.as_ref()
                    && Instant::now() < *until
                {
                    return Ok(token.clone());
                }
                let issued = self.fetch().await?;
                *cached = Some((
                    issued.token.clone(),
                    Instant::now() + cache_ttl(issued.expires_in),
                ));
                Ok(issued.token)
            }
            Store::Redis {
                conn,
                key,
                lock,
                delete_if_equal,
            } => {
                let mut conn = conn.clone();
                let started = Instant::now();
                loop {
                    if let Some(token) = read(&mut conn, key).await? {
                        return Ok(token);
                    }
                    let nonce = uuid::Uuid::new_v4().to_string();
                    let locked: Option<String> = redis::cmd("SET")
                        .arg(lock)
                        .arg(&nonce)
                        .arg("NX")
                        .arg("PX")
                        .arg(millis(LOCK_TTL))
                        .query_async(&mut conn)
                        .await
                        .map_err(PortError::from)?;
                    if locked.is_some() {
                        let result = self.fetch_into_redis(&mut conn, key).await;
                        let released: Result<i64, _> = delete_if_equal
                            .key(lock)
                            .arg(&nonce)
                            .invoke_async(&mut conn)
                            .await;
                        if let Err(e) = released {
                            tracing::warn!(error = %e, "could not release the access-token lock; it expires by itself");
                        }
                        return result;
                    }
                    if started.elapsed() >= WAIT_MAX {
                        return Err(TokenError::Busy);
                    }
                    tokio::time::sleep(WAIT_STEP).await;
                }
            }
        }
    }

    /// Forgets `token` after WeChat called it invalid, unless a fresher one replaced it.
    pub async fn invalidate(&self, token: &Secret) -> Result<(), TokenError> {
        match &self.store {
            Store::Memory(cell) => {
                let mut cached = cell.lock().await;
                if cached.as_ref().is_some_and(|(t, _)| t == token) {
                    *cached = None;
                }
            }
            Store::Redis {
                conn,
                key,
                delete_if_equal,
                ..
            } => {
                let mut conn = conn.clone();
                let _: i64 = delete_if_equal
                    .key(key)
                    .arg(token.expose())
                    .invoke_async(&mut conn)
                    .await
                    .map_err(PortError::from)?;
            }
        }
        Ok(())
    }

    async fn fetch(&self) -> Result<IssuedToken, TokenError> {
        let issued = self.client.fetch_access_token().await?;
        tracing::info!(
            expires_in_secs = issued.expires_in.as_secs(),
            "fetched a WeChat access token"
        );
        Ok(issued)
    }

    /// Holding the lock: re-reads (another holder may have just stored one), else fetches.
    async fn fetch_into_redis(
        &self,
        conn: &mut RedisConn,
        key: &str,
    ) -> Result<Secret, TokenError> {
        if let Some(token) = read(conn, key).await? {
            return Ok(token);
        }
        let issued = self.fetch().await?;
        redis::cmd("SET")
            .arg(key)
            .arg(issued.token.expose())
            .arg("PX")
            .arg(millis(cache_ttl(issued.expires_in)))
            .query_async::<()>(conn)
            .await
            .map_err(PortError::from)?;
        Ok(issued.token)
    }
}

async fn read(conn: &mut RedisConn, key: &str) -> Result<Option<Secret>, PortError> {
    let value: Option<String> = redis::cmd("GET").arg(key).query_async(conn).await?;
    Ok(value.filter(|v| !v.is_empty()).map(Secret::new))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// How long a token is trusted: five minutes less than WeChat says, so it is replaced
/// before it expires mid-request; half its life when it is shorter than ten minutes.
fn cache_ttl(expires_in: Duration) -> Duration {
    let margin = Duration::from_secs(300);
    let ttl = if expires_in > 2 * margin {
        expires_in - margin
    } else {
        expires_in / 2
    };
    ttl.max(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_refreshed_five_minutes_early() {
        assert_eq!(
            cache_ttl(Duration::from_secs(7200)),
            Duration::from_secs(6900)
        );
        assert_eq!(
            cache_ttl(Duration::from_secs(600)),
            Duration::from_secs(300)
        );
        assert_eq!(cache_ttl(Duration::from_secs(0)), Duration::from_secs(1));
    }
}
