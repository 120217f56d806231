//! The Redis geo index, for the production footprint: every API instance and worker sees
//! the same positions.
//!
//! Two keys: `{prefix}:geo:pos`, a GEO set (`GEOADD lng lat member`), and
//! `{prefix}:geo:seen`, a sorted set whose score is the unix time in milliseconds of each
//! member's last update. An upsert writes both in one Lua script, which also drops updates
//! older than the one held, so the keys never disagree and a late heartbeat cannot move a
//! member back. [`GeoIndex::nearby`] asks `GEOSEARCH … ASC WITHDIST WITHCOORD COUNT n` for
//! more than `limit` candidates, reads their last-update times with one `ZMSCORE`, skips
//! the stale ones, and widens `n` when too many were stale; members silent for
//! [`FORGET_AFTER`] are removed on the way.
//!
//! Freshness is judged against this process's clock, as `at` is stamped by callers' clocks
//! too; hosts are expected to run NTP, and a skew of a second is far below any useful
//! `fresh_within`. This adapter must never write one key without the other.

use std::time::Duration;

use crate::ports::redis_conn::RedisConn;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redis::Script;
use uuid::Uuid;

use super::{
    FORGET_AFTER, GeoIndex, Located, Nearby, Position, fresh_since, invalid_position, searchable,
};
use crate::ports::PortError;

/// KEYS[1]: positions, KEYS[2]: last-seen times. ARGV: lng, lat, member, at (unix ms).
/// Returns 1 when written, 0 when an update at least as new is already held.
const UPSERT_SCRIPT: &str = r"
local held = redis.call('ZSCORE', KEYS[2], ARGV[3])
if held and tonumber(held) > tonumber(ARGV[4]) then return 0 end
redis.call('GEOADD', KEYS[1], ARGV[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
return 1
";

/// Which backend [`PortError`]s name.
const BACKEND: &str = "redis";

/// The geo-index port on Redis.
#[derive(Debug, Clone)]
pub struct RedisGeoIndex {
    /// The reconnecting connection (multiplexed: one serves every task).
    conn: RedisConn,
    /// `{prefix}:geo:pos`.
    pos_key: String,
    /// `{prefix}:geo:seen`.
    seen_key: String,
    /// The upsert script; sent by hash, loaded on the first `NOSCRIPT`.
    upsert: Script,
}

/// One `GEOSEARCH … WITHDIST WITHCOORD` row: member, distance (m), (lng, lat).
type Row = (String, f64, (f64, f64));

impl RedisGeoIndex {
    /// An index over `conn` whose keys are `{prefix}:geo:pos` and `{prefix}:geo:seen`.
    pub fn new(conn: RedisConn, prefix: String) -> Self {
        Self {
            conn,
            pos_key: format!("{prefix}:geo:pos"),
            seen_key: format!("{prefix}:geo:seen"),
            upsert: Script::new(UPSERT_SCRIPT),
        }
    }

    /// This index over another connection to the same Redis (see
    /// [`crate::Platform::on_this_thread`]).
    pub fn over(&self, conn: RedisConn) -> Self {
        Self {
            conn,
            ..self.clone()
        }
    }

    /// Removes `members` from both keys at once.
    async fn forget(&self, members: &[String]) -> Result<(), PortError> {
        if members.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        redis::pipe()
            .atomic()
            .zrem(&self.pos_key, members)
            .ignore()
            .zrem(&self.seen_key, members)
            .ignore()
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }
}

fn unix_ms(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn from_unix_ms(ms: f64) -> Result<DateTime<Utc>, PortError> {
    // Scores are whole milliseconds well inside i64; `as` saturates on anything else.
    let ms = ms as i64;
    DateTime::from_timestamp_millis(ms).ok_or_else(|| PortError::Corrupt {
        backend: BACKEND,
        message: format!("last-seen score {ms} is not a time"),
    })
}

#[async_trait]
impl GeoIndex for RedisGeoIndex {
    async fn upsert(
        &self,
        member: Uuid,
        pos: Position,
        at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        if !pos.is_valid() {
            return Err(invalid_position(pos));
        }
        let mut conn = self.conn.clone();
        self.upsert
            .key(&self.pos_key)
            .key(&self.seen_key)
            .arg(pos.lng)
            .arg(pos.lat)
            .arg(member.to_string())
            .arg(unix_ms(at))
            .invoke_async::<i64>(&mut conn)
            .await?;
        Ok(())
    }

    async fn remove(&self, member: Uuid) -> Result<(), PortError> {
        self.forget(&[member.to_string()]).await
    }

    async fn position(&self, member: Uuid) -> Result<Option<Located>, PortError> {
        let mut conn = self.conn.clone();
        let id = member.to_string();
        let (coords, seen): (Vec<Option<(f64, f64)>>, Option<f64>) = redis::pipe()
            .cmd("GEOPOS")
            .arg(&self.pos_key)
            .arg(&id)
            .zscore(&self.seen_key, &id)
            .query_async(&mut conn)
            .await?;
        let (Some(Some((lng, lat))), Some(seen)) = (coords.into_iter().next(), seen) else {
            return Ok(None);
        };
        let at = from_unix_ms(seen)?;
        if at < fresh_since(Utc::now(), FORGET_AFTER) {
            self.forget(&[id]).await?;
            return Ok(None);
        }
        Ok(Some(Located {
            pos: Position { lat, lng },
            at,
        }))
    }

    async fn nearby(
        &self,
        center: Position,
        radius_m: f64,
        limit: usize,
        fresh_within: Duration,
    ) -> Result<Vec<Nearby>, PortError> {
        if !searchable(center, radius_m, limit) {
            return Ok(Vec::new());
        }
        let now = Utc::now();
        // Scores are f64 in Redis; whole milliseconds compare exactly.
        let fresh = unix_ms(fresh_since(now, fresh_within)) as f64;
        let forget_before = unix_ms(fresh_since(now, FORGET_AFTER)) as f64;
        let mut conn = self.conn.clone();
        // Room for some stale members; widened below when there were more.
        let mut count = limit.saturating_mul(2).saturating_add(16);
        loop {
            let rows: Vec<Row> = redis::cmd("GEOSEARCH")
                .arg(&self.pos_key)
                .arg("FROMLONLAT")
                .arg(center.lng)
                .arg(center.lat)
                .arg("BYRADIUS")
                .arg(radius_m)
                .arg("m")
                .arg("ASC")
                .arg("WITHDIST")
                .arg("WITHCOORD")
                .arg("COUNT")
                .arg(count)
                .query_async(&mut conn)
                .await?;
            if rows.is_empty() {
                return Ok(Vec::new());
            }
            let members: Vec<&str> = rows.iter().map(|(m, _, _)| m.as_str()).collect();
            let seen: Vec<Option<f64>> = redis::cmd("ZMSCORE")
                .arg(&self.seen_key)
                .arg(&members)
                .query_async(&mut conn)
                .await?;
            let exhausted = rows.len() < count;
            let mut found = Vec::new();
            let mut forget = Vec::new();
            for ((member, distance_m, (lng, lat)), seen) in rows.into_iter().zip(seen) {
                // A member without a last-seen time can only be left over from a crash
                // between two writes of an older version; treat it as long gone.
                let seen = seen.unwrap_or(f64::NEG_INFINITY);
                if seen < forget_before {
                    forget.push(member);
                    continue;
                }
                if seen < fresh {
                    continue;
                }
                let Ok(id) = Uuid::parse_str(&member) else {
                    tracing::warn!(%member, key = %self.pos_key, "geo member is not a uuid; skipped");
                    continue;
                };
                found.push(Nearby {
                    member: id,
                    pos: Position { lat, lng },
                    distance_m,
                    at: from_unix_ms(seen)?,
                });
            }
            self.forget(&forget).await?;
            if found.len() >= limit || exhausted {
                found.sort_by(|a, b| {
                    a.distance_m
                        .total_cmp(&b.distance_m)
                        .then(a.member.cmp(&b.member))
                });
                found.truncate(limit);
                return Ok(found);
            }
            count = count.saturating_mul(4);
        }
    }

    async fn any_fresh(&self, fresh_within: Duration) -> Result<bool, PortError> {
        let fresh = unix_ms(fresh_since(Utc::now(), fresh_within));
        let mut conn = self.conn.clone();
        let count: u64 = redis::cmd("ZCOUNT")
            .arg(&self.seen_key)
            .arg(fresh)
            .arg("+inf")
            .query_async(&mut conn)
            .await?;
        Ok(count > 0)
    }

    async fn ping(&self) -> Result<(), PortError> {
        let mut conn = self.conn.clone();
        redis::cmd("PING").query_async::<()>(&mut conn).await?;
        Ok(())
    }
}
