//! The Redis rate limiter, for the production footprint: every API instance counts against
//! the same keys, so a limit holds across the whole fleet.
//!
//! One Lua script per call runs the same GCRA as the embedded adapter (see
//! [`super::embedded`] for the algorithm and why) for each of the call's keys: read each
//! key's TAT, decide, and when every key allows the hit write each new TAT. Redis runs a
//! script atomically, so concurrent hits from any number of instances are serialised per
//! key without locks or retries, and a request limited per client and per user costs one
//! round trip. (On a Redis Cluster a script's keys must share a hash slot; Wufei runs one
//! Redis, not a cluster.)
//!
//! **Clock: Redis's own `TIME`, read inside the script.** API instances' clocks drift
//! apart; if each passed its own `now`, a fast clock would earn hits back early and a slow
//! one would see the TAT "in the future" and refuse too long. One clock, the server's,
//! makes every decision consistent. (Since Redis 5 a script may write after `TIME`, because
//! scripts replicate their effects; the script asks for that explicitly on older servers.)
//!
//! Keys are `{prefix}:rl:{key}` holding the TAT in microseconds, written with a TTL equal
//! to how far the TAT runs ahead of now (at most about one window): the key vanishes
//! exactly when it would stop mattering, so Redis never fills up. This adapter must never
//! write a key without a TTL, and never compute a decision outside the script.

use crate::ports::redis_conn::RedisConn;
use async_trait::async_trait;
use redis::Script;

use super::embedded::{Gcra, refuse_any_zero};
use super::{Decision, Limit, RateLimiter};
use crate::ports::PortError;

/// A line-for-line copy of `Gcra::decide` (embedded.rs) run for each key, plus the storage
/// and the all-or-nothing rule of `EmbeddedRateLimiter::hit_all_at`: TATs are written only
/// when every key allows the hit.
///
/// KEYS[i]: a key. ARGV[2i-1]: its emission interval T (µs). ARGV[2i]: its burst, max × T
/// (µs). Returns `{1, least remaining}` when allowed, `{0, longest retry_after_us}` when
/// refused.
const GCRA_SCRIPT: &str = r"
if redis.replicate_commands then redis.replicate_commands() end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local pending = {}
local remaining = -1
local wait = 0
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local stored = pending[key] or redis.call('GET', key)
  local tat = now
  if stored then tat = math.max(tonumber(stored) or now, now) end
  local new_tat = tat + interval
  local ahead = new_tat - now
  if ahead > burst then
    wait = math.max(wait, ahead - burst)
  else
    pending[key] = new_tat
    local left = math.floor((burst - ahead) / interval)
    if remaining < 0 or left < remaining then remaining = left end
  end
end
if wait > 0 then
  return {0, wait}
end
for key, new_tat in pairs(pending) do
  redis.call('SET', key, string.format('%.0f', new_tat),
    'PX', string.format('%.0f', math.ceil((new_tat - now) / 1000)))
end
return {1, remaining}
";

/// Which backend [`PortError`]s name.
const BACKEND: &str = "redis";

/// The rate-limit port on Redis: a GCRA per key, decided atomically by a Lua script using
/// the server's clock.
#[derive(Debug, Clone)]
pub struct RedisRateLimiter {
    /// The reconnecting connection (multiplexed: one serves every task).
    conn: RedisConn,
    /// Namespace for every key this limiter writes (`{prefix}:rl:…`).
    prefix: String,
    /// The GCRA script; sent by hash, loaded on the first `NOSCRIPT`.
    script: Script,
}

impl RedisRateLimiter {
    /// A limiter over `conn` whose keys are `{prefix}:rl:{key}`.
    pub fn new(conn: RedisConn, prefix: String) -> Self {
        Self {
            conn,
            prefix,
            script: Script::new(GCRA_SCRIPT),
        }
    }

    /// This limiter over another connection to the same Redis (see
    /// [`crate::Platform::on_this_thread`]).
    pub fn over(&self, conn: RedisConn) -> Self {
        Self {
            conn,
            ..self.clone()
        }
    }

    /// The Redis key for a caller's key.
    fn redis_key(&self, key: &str) -> String {
        format!("{}:rl:{}", self.prefix, key)
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn hit_all(&self, checks: &[(&str, Limit)]) -> Result<Decision, PortError> {
        if let Some(refused) = refuse_any_zero(checks) {
            return Ok(refused);
        }
        if checks.is_empty() {
            return Ok(Decision::Allowed {
                remaining: u32::MAX,
            });
        }
        let mut invocation = self.script.prepare_invoke();
        for (key, limit) in checks {
            if let Some(gcra) = Gcra::new(*limit) {
                invocation
                    .key(self.redis_key(key))
                    .arg(gcra.interval_us)
                    .arg(gcra.burst_us);
            }
        }
        let mut conn = self.conn.clone();
        let (allowed, value): (i64, i64) = invocation.invoke_async(&mut conn).await?;
        let corrupt = || PortError::Corrupt {
            backend: BACKEND,
            message: format!("rate-limit script answered {{{allowed}, {value}}}"),
        };
        match allowed {
            1 => {
                let remaining = u32::try_from(value).map_err(|_| corrupt())?;
                Ok(Decision::Allowed { remaining })
            }
            0 => {
                let micros = u64::try_from(value)
                    .ok()
                    .filter(|&us| us > 0)
                    .ok_or_else(corrupt)?;
                Ok(Decision::Limited {
                    retry_after: std::time::Duration::from_micros(micros),
                })
            }
            _ => Err(corrupt()),
        }
    }

    async fn reset(&self, key: &str) -> Result<(), PortError> {
        let mut conn = self.conn.clone();
        redis::cmd("DEL")
            .arg(self.redis_key(key))
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), PortError> {
        let mut conn = self.conn.clone();
        redis::cmd("PING").query_async::<()>(&mut conn).await?;
        Ok(())
    }
}
