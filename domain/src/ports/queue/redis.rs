//! The production queue adapter: Redis Streams with one consumer group.
//!
//! Key layout (every key starts with the configured prefix, which isolates deployments and
//! tests from each other):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `{prefix}:q:{topic}` | stream, group `workers` | ready and in-flight jobs: fields `id`, `payload` (JSON), `attempt` |
//! | `{prefix}:q:delayed` | sorted set | delayed jobs and retries in backoff; score = due unix ms, member = the job as JSON |
//! | `{prefix}:q:dead` | stream | dead letters: fields `id`, `topic`, `payload`, `attempts`, `last_error` |
//! | `{prefix}:q:topics` | set | every topic seen, so `depth` can find every stream |
//! | `{prefix}:q:epoch` | string | a random id written into an empty Redis (see [`Queue::epoch`]) |
//! | `{prefix}:q:alive:{consumer}` | string with a TTL | present while that consumer's process lives |
//!
//! A delivery's attempt is the entry's `attempt` field plus the times the group re-delivered
//! it (XAUTOCLAIM after the visibility timeout). The receipt is `entry-id|delivery-count|consumer`:
//! ack and fail act only while the pending entry still belongs to that consumer with that
//! count, so a consumer whose lease expired cannot ack the job out from under the consumer it
//! was handed to next. Multi-command steps run as Lua scripts, atomically; each script is a `.lua` file in
//! `redis/` beside this one.
//!
//! **Recovery.** A consumer keeps its liveness key fresh from a task of its own (every
//! [`ALIVE_EVERY`], expiring after [`ALIVE_TTL`]), however busy its jobs keep it. When a
//! process dies, its key expires, and the next reclaim by any consumer of a topic takes all
//! of the dead consumer's pending entries at once and removes it from the group: a killed
//! worker's jobs run again within seconds, not after the visibility timeout, and dead
//! consumers do not pile up in the group. When Redis comes back without its data, a read
//! that finds a topic's group gone (`NOGROUP`) forgets which groups this process created
//! and creates them again; the jobs themselves come back from the outbox, which keeps every
//! row until its job is done and relays again what was relayed under an earlier epoch (see
//! `crate::jobs::relay`).
//!
//! Blocking reads never run on the shared connection (they would stall every other command);
//! they use dedicated connections kept in a small pool. This module must never hand a job to
//! two consumers at once, nor lose a job between the delayed set, the streams and the
//! dead-letter stream.
//!
//! What a receive costs is paced, since a busy runner calls it after every job: due delayed
//! jobs are promoted at most every [`PROMOTE_EVERY`] (and when the earliest one this process
//! knows of comes due), abandoned entries are reclaimed per topic at most every quarter of
//! the visibility timeout (at most every second). One `XREADGROUP` over several streams may
//! return up to `COUNT` entries from each; those beyond `max` stay leased to the consumer in a
//! small local buffer and are handed out by its next receive (or put back on their stream
//! if they waited there half a visibility timeout).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use redis::aio::MultiplexedConnection;
use redis::streams::{StreamId, StreamRangeReply, StreamReadReply};
use redis::{AsyncConnectionConfig, Script};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use tokio_util::sync::{CancellationToken, DropGuard};

use super::{DeadJob, Delivery, FailOutcome, NewJob, Queue, QueueDepth, QueuePolicy};
use crate::ports::{
    PortError,
    redis_conn::{RedisConn, RedisLink, is_outage},
};

/// The one consumer group every worker reads through.
const GROUP: &str = "workers";
/// Longest single blocking read, so delayed jobs and expired leases are looked at regularly
/// even when no new entry arrives.
const MAX_BLOCK: Duration = Duration::from_secs(1);
/// Due delayed jobs moved per promotion.
const PROMOTE_BATCH: usize = 100;
/// Shortest time between two promotions of due delayed jobs by one process, unless the
/// earliest delayed job it knows of is due.
const PROMOTE_EVERY: Duration = Duration::from_millis(100);
/// Longest time between two reclaims of abandoned entries of one topic by one process.
const RECLAIM_EVERY: Duration = Duration::from_secs(1);
/// Idle dedicated connections kept for blocking reads.
const BLOCKING_POOL: usize = 8;
/// Extra time allowed on top of a blocking read before its connection is given up.
const BLOCK_GRACE: Duration = Duration::from_secs(5);
/// The `last_error` of a job dead-lettered because its last consumer never answered.
const LEASE_EXPIRED: &str = "visibility timeout expired on the last attempt";
/// How long a consumer's liveness key lives without being refreshed: a killed worker's
/// jobs are taken over this long (plus at most a reclaim interval) after it died.
pub const ALIVE_TTL: Duration = Duration::from_secs(6);
/// How often a live consumer refreshes its liveness key.
const ALIVE_EVERY: Duration = Duration::from_secs(2);
/// Deadline of one command on the queue's shared connection (its scripts walk a few
/// hundred entries at most).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// How long opening a dedicated connection for a blocking read may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Moves due members of the delayed set onto their topic streams, and returns the score of
/// the earliest job still waiting (or -1). KEYS: delayed, topics. ARGV: now ms, limit,
/// stream key prefix, group, dead stream.
const PROMOTE: &str = include_str!("redis/promote.lua");

/// Claims for a consumer, up to a count: first every pending entry of the consumers that
/// are gone (no liveness key `{alive prefix}{name}`: their process died; those left with
/// nothing pending are removed from the group), then entries idle longer than the
/// visibility timeout (a live consumer stuck on them). Dead-letters those whose attempts
/// are exhausted. Returns `{entry, id, payload, attempt, count}` per claimed entry.
/// KEYS: stream, dead. ARGV: group, consumer, min idle ms, count, max attempts, topic,
/// last error, alive key prefix.
const RECLAIM: &str = include_str!("redis/reclaim.lua");

/// Whether the pending entry ARGV[2] still belongs to consumer ARGV[3] with delivery count
/// ARGV[4] (in group ARGV[1]) — shared prologue of ACK and FAIL.
const HELD: &str = include_str!("redis/held.lua");

/// Acks and deletes an entry whose lease is still held. KEYS: stream. ARGV: group, entry,
/// consumer, count. Returns 1 if acked, 0 if the lease was lost.
const ACK_BODY: &str = include_str!("redis/ack_body.lua");

/// Fails an entry whose lease is still held: acks and deletes it, then either schedules the
/// retry (ARGV[5] = 'retry': ZADD score ARGV[6] member ARGV[7]) or dead-letters it (fields
/// ARGV[8..12]). KEYS: stream, delayed, dead. Returns 1, or 0 if the lease was lost.
const FAIL_BODY: &str = include_str!("redis/fail_body.lua");

/// Puts an entry read beyond `max` back at the end of its stream, unchanged, for another
/// receive. KEYS: stream. ARGV: group, entry, id, payload, attempt.
const REQUEUE: &str = include_str!("redis/requeue.lua");

/// Appends jobs to their streams (or, when `due` is in the future, to the delayed set),
/// creating each topic's group on first use, and returns the store's epoch (see
/// [`EPOCH`]), read in the same atomic step. KEYS: topics, delayed, epoch. ARGV: group,
/// stream key prefix, candidate epoch, now ms, then per job: topic, id, payload (the
/// delayed member for a delayed job), due ms.
const ENQUEUE_MANY: &str = include_str!("redis/enqueue_many.lua");

/// The store's epoch: a random id written once into an empty Redis and read back ever
/// after. A Redis that comes back without its data (restarted without persistence, a
/// failover to an empty replica, a flush) has no epoch until the next caller writes a new
/// one, so a changed epoch tells the relay that jobs relayed before were lost. KEYS: epoch.
/// ARGV: candidate epoch.
const EPOCH: &str = include_str!("redis/epoch.lua");

/// Creates the group on each stream in KEYS (BUSYGROUP ignored) and records the topics.
/// KEYS[1]: topics set, KEYS[2..]: streams. ARGV[1]: group, ARGV[2..]: topics.
const ENSURE: &str = include_str!("redis/ensure.lua");

/// `{ready, in_flight, delayed, dead}`. KEYS: topics, delayed, dead. ARGV: stream key
/// prefix, group.
const DEPTH: &str = include_str!("redis/depth.lua");

/// A job in the delayed set. `payload` is the JSON text, kept as a string so Lua never
/// re-encodes it.
#[derive(Serialize, Deserialize)]
struct DelayedJob<'a> {
    id: Uuid,
    topic: &'a str,
    payload: &'a str,
    attempt: u32,
}

/// The compiled scripts (each sent once, then run by SHA).
struct Scripts {
    promote: Script,
    reclaim: Script,
    ack: Script,
    fail: Script,
    requeue: Script,
    enqueue_many: Script,
    epoch: Script,
    ensure: Script,
    depth: Script,
}

impl Scripts {
    fn new() -> Self {
        Self {
            promote: Script::new(PROMOTE),
            reclaim: Script::new(RECLAIM),
            ack: Script::new(&format!("{HELD}{ACK_BODY}")),
            fail: Script::new(&format!("{HELD}{FAIL_BODY}")),
            requeue: Script::new(REQUEUE),
            enqueue_many: Script::new(ENQUEUE_MANY),
            epoch: Script::new(EPOCH),
            ensure: Script::new(ENSURE),
            depth: Script::new(DEPTH),
        }
    }
}

/// A delivery's receipt: which pending entry, at which delivery count, held by whom.
struct Receipt<'a> {
    entry: &'a str,
    count: &'a str,
    consumer: &'a str,
}

impl<'a> Receipt<'a> {
    fn parse(receipt: &'a str) -> Result<Self, PortError> {
        let mut parts = receipt.splitn(3, '|');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(entry), Some(count), Some(consumer)) => Ok(Self {
                entry,
                count,
                consumer,
            }),
            _ => Err(corrupt(format!("bad receipt {receipt:?}"))),
        }
    }

    fn format(entry: &str, count: &str, consumer: &str) -> String {
        format!("{entry}|{count}|{consumer}")
    }
}

/// When this process last promoted and reclaimed, and the earliest delayed job it knows of.
#[derive(Default)]
struct Pace {
    promoted_at: Option<Instant>,
    /// Unix ms of the earliest delayed job (from the last promotion, or enqueued since).
    next_due: Option<i64>,
    reclaimed_at: HashMap<String, Instant>,
}

impl Pace {
    /// Whether a promotion is due now.
    fn promote_due(&self, now: Instant, now_ms: i64) -> bool {
        self.promoted_at
            .is_none_or(|at| now.duration_since(at) >= PROMOTE_EVERY)
            || self.next_due.is_some_and(|due| due <= now_ms)
    }

    /// How long a blocking read may last before a delayed job this process knows of is due
    /// (or, when one is due already, until the next promotion may run).
    fn until_due(&self, now: Instant, now_ms: i64) -> Duration {
        match self.next_due {
            None => MAX_BLOCK,
            Some(due) if due > now_ms => {
                Duration::from_millis(u64::try_from(due - now_ms).unwrap_or(u64::MAX))
            }
            Some(_) => self
                .promoted_at
                .map_or(Duration::ZERO, |at| {
                    PROMOTE_EVERY.saturating_sub(now.duration_since(at))
                })
                .max(Duration::from_millis(1)),
        }
    }

    fn saw_delayed(&mut self, due_ms: i64) {
        self.next_due = Some(self.next_due.map_or(due_ms, |d| d.min(due_ms)));
    }
}

/// An entry one `XREADGROUP` returned beyond what its caller asked for: leased to
/// `consumer`, handed out by that consumer's next receive.
struct Spare {
    consumer: String,
    read_at: Instant,
    delivery: Delivery,
}

/// The queue on Redis Streams.
///
/// The mutexes guard only caches, a connection pool and the spare entries, whose contents
/// stay valid if a holder panicked, so a poisoned lock is used as is.
pub struct RedisQueue {
    client: redis::Client,
    conn: RedisConn,
    blocking: Mutex<Vec<MultiplexedConnection>>,
    known: Mutex<HashSet<String>>,
    /// The consumers whose liveness keys this process keeps fresh.
    alive: Mutex<HashSet<String>>,
    /// Cancelled when the queue is dropped: stops the liveness tasks.
    stop_token: CancellationToken,
    /// Cancels [`Self::stop_token`] on drop.
    _stop: DropGuard,
    /// The epoch this process last saw (see [`Queue::epoch`]).
    epoch: Mutex<Option<String>>,
    pace: Mutex<Pace>,
    spares: Mutex<VecDeque<Spare>>,
    prefix: String,
    policy: QueuePolicy,
    scripts: Scripts,
}

impl std::fmt::Debug for RedisQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisQueue")
            .field("prefix", &self.prefix)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

fn corrupt(message: impl std::fmt::Display) -> PortError {
    PortError::Corrupt {
        backend: "redis",
        message: message.to_string(),
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A candidate epoch: random, so two stores never share one.
fn new_epoch() -> String {
    Uuid::new_v4().simple().to_string()
}

/// Sets a consumer's liveness key for [`ALIVE_TTL`].
async fn mark_alive(conn: &mut RedisConn, key: &str) -> Result<(), PortError> {
    redis::cmd("SET")
        .arg(key)
        .arg(1)
        .arg("PX")
        .arg(millis(ALIVE_TTL))
        .query_async::<()>(conn)
        .await?;
    Ok(())
}

fn field(entry: &StreamId, name: &str) -> Result<String, PortError> {
    entry
        .get::<String>(name)
        .ok_or_else(|| corrupt(format!("stream entry {} has no {name}", entry.id)))
}

impl RedisQueue {
    /// Connects to Redis; every key this queue touches starts with `{prefix}:q:`.
    pub async fn connect(
        link: &RedisLink,
        prefix: String,
        policy: QueuePolicy,
    ) -> Result<Self, PortError> {
        let conn = link.connect(COMMAND_TIMEOUT).await?;
        let stop = CancellationToken::new();
        Ok(Self {
            client: link.client().clone(),
            conn,
            blocking: Mutex::new(Vec::new()),
            known: Mutex::new(HashSet::new()),
            alive: Mutex::new(HashSet::new()),
            stop_token: stop.clone(),
            _stop: stop.drop_guard(),
            epoch: Mutex::new(None),
            pace: Mutex::new(Pace::default()),
            spares: Mutex::new(VecDeque::new()),
            prefix,
            policy,
            scripts: Scripts::new(),
        })
    }

    /// The retry and visibility policy this queue applies.
    pub fn policy(&self) -> &QueuePolicy {
        &self.policy
    }

    fn key(&self, suffix: &str) -> String {
        format!("{}:q:{suffix}", self.prefix)
    }

    fn stream_prefix(&self) -> String {
        format!("{}:q:", self.prefix)
    }

    fn stream(&self, topic: &str) -> String {
        self.key(topic)
    }

    /// Creates the consumer group on the topics' streams once per process.
    async fn ensure_groups(&self, topics: &[String]) -> Result<(), PortError> {
        let missing: Vec<&String> = {
            let known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
            topics.iter().filter(|t| !known.contains(*t)).collect()
        };
        if missing.is_empty() {
            return Ok(());
        }
        let mut inv = self.scripts.ensure.prepare_invoke();
        inv.key(self.key("topics")).arg(GROUP);
        for topic in &missing {
            inv.key(self.stream(topic)).arg(topic.as_str());
        }
        let mut conn = self.conn.clone();
        let _: i64 = inv.invoke_async(&mut conn).await?;
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        known.extend(missing.into_iter().cloned());
        Ok(())
    }

    fn pace(&self) -> std::sync::MutexGuard<'_, Pace> {
        self.pace.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Promotes due delayed jobs when a promotion is due (see [`Pace`]).
    async fn promote_if_due(&self) -> Result<(), PortError> {
        let now = Instant::now();
        if !self.pace().promote_due(now, Utc::now().timestamp_millis()) {
            return Ok(());
        }
        let next = self.promote().await?;
        let mut pace = self.pace();
        pace.promoted_at = Some(now);
        pace.next_due = next;
        Ok(())
    }

    /// Whether `topic`'s abandoned entries should be looked for now; if so, notes that
    /// they are.
    fn reclaim_due(&self, topic: &str) -> bool {
        let every = (self.policy.visibility_timeout / 4).min(RECLAIM_EVERY);
        let now = Instant::now();
        let mut pace = self.pace();
        match pace.reclaimed_at.get(topic) {
            Some(at) if now.duration_since(*at) < every => false,
            _ => {
                pace.reclaimed_at.insert(topic.to_owned(), now);
                true
            }
        }
    }

    /// Up to `max` of `consumer`'s spare entries of `topics`; spares that waited half a
    /// visibility timeout go back to their streams instead, so their lease cannot run out
    /// before they are handled.
    async fn take_spares(
        &self,
        consumer: &str,
        topics: &[String],
        max: usize,
    ) -> Result<Vec<Delivery>, PortError> {
        let fresh_for = self.policy.visibility_timeout / 2;
        let (out, stale) = {
            let mut spares = self.spares.lock().unwrap_or_else(PoisonError::into_inner);
            let mut out = Vec::new();
            let mut stale = Vec::new();
            let mut kept = VecDeque::with_capacity(spares.len());
            for spare in spares.drain(..) {
                if spare.consumer != consumer || !topics.contains(&spare.delivery.topic) {
                    kept.push_back(spare);
                } else if spare.read_at.elapsed() >= fresh_for {
                    stale.push(spare.delivery);
                } else if out.len() < max {
                    out.push(spare.delivery);
                } else {
                    kept.push_back(spare);
                }
            }
            *spares = kept;
            (out, stale)
        };
        for d in stale {
            let receipt = Receipt::parse(&d.receipt)?;
            let payload = serde_json::to_string(&d.payload).map_err(corrupt)?;
            let mut conn = self.conn.clone();
            let _: i64 = self
                .scripts
                .requeue
                .key(self.stream(&d.topic))
                .arg(GROUP)
                .arg(receipt.entry)
                .arg(d.id.to_string())
                .arg(payload)
                .arg(d.attempt.to_string())
                .invoke_async(&mut conn)
                .await?;
        }
        Ok(out)
    }

    /// Marks `consumer` alive now, and the first time keeps it so from a task of its own
    /// for as long as this queue lives (see the module's "Recovery").
    async fn keep_alive(&self, consumer: &str) -> Result<(), PortError> {
        if self
            .alive
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(consumer)
        {
            return Ok(());
        }
        let key = self.key(&format!("alive:{consumer}"));
        let mut conn = self.conn.clone();
        mark_alive(&mut conn, &key).await?;
        if !self
            .alive
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(consumer.to_owned())
        {
            return Ok(());
        }
        let stop = self.stop_token.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(ALIVE_EVERY) => {}
                }
                if let Err(e) = mark_alive(&mut conn, &key).await {
                    tracing::debug!(error = %e, "could not refresh a consumer's liveness key");
                }
            }
        });
        Ok(())
    }

    /// Notes the epoch Redis answered with; says so in the log when it changed.
    fn saw_epoch(&self, epoch: &str) {
        let mut seen = self.epoch.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.as_deref() != Some(epoch) {
            if seen.is_some() {
                tracing::warn!(%epoch, "redis lost its data (new epoch); relayed jobs will be relayed again");
                self.known
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clear();
            }
            *seen = Some(epoch.to_owned());
        }
    }

    /// One receive (see [`Queue::receive`]), with the groups created first.
    async fn receive_from(
        &self,
        consumer: &str,
        topics: &[String],
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Delivery>, PortError> {
        self.ensure_groups(topics).await?;
        let spares = self.take_spares(consumer, topics, max).await?;
        if !spares.is_empty() {
            return Ok(spares);
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            self.promote_if_due().await?;
            let mut out = Vec::new();
            for topic in topics {
                if out.len() >= max {
                    break;
                }
                if self.reclaim_due(topic) {
                    out.extend(self.reclaim(consumer, topic, max - out.len()).await?);
                }
            }
            if !out.is_empty() {
                return Ok(out);
            }
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            let until_due = self
                .pace()
                .until_due(Instant::now(), Utc::now().timestamp_millis());
            let block = remaining
                .min(until_due)
                .min(MAX_BLOCK)
                .min(self.policy.visibility_timeout / 2);
            let out = self.read_new(consumer, topics, max, block).await?;
            if !out.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(out);
            }
        }
    }

    /// Moves due delayed jobs onto their streams; returns the due time (unix ms) of the
    /// earliest job still delayed.
    async fn promote(&self) -> Result<Option<i64>, PortError> {
        let mut conn = self.conn.clone();
        let next: i64 = self
            .scripts
            .promote
            .key(self.key("delayed"))
            .key(self.key("topics"))
            .arg(Utc::now().timestamp_millis())
            .arg(PROMOTE_BATCH)
            .arg(self.stream_prefix())
            .arg(GROUP)
            .arg(self.key("dead"))
            .invoke_async(&mut conn)
            .await?;
        Ok((next >= 0).then_some(next))
    }

    /// Claims up to `max` entries of `topic` left unacked past the visibility timeout.
    async fn reclaim(
        &self,
        consumer: &str,
        topic: &str,
        max: usize,
    ) -> Result<Vec<Delivery>, PortError> {
        let mut conn = self.conn.clone();
        let rows: Vec<Vec<String>> = self
            .scripts
            .reclaim
            .key(self.stream(topic))
            .key(self.key("dead"))
            .arg(GROUP)
            .arg(consumer)
            .arg(millis(self.policy.visibility_timeout))
            .arg(max)
            .arg(self.policy.max_attempts)
            .arg(topic)
            .arg(LEASE_EXPIRED)
            .arg(self.key("alive:"))
            .invoke_async(&mut conn)
            .await?;
        rows.into_iter()
            .map(|row| match row.as_slice() {
                [entry, id, payload, attempt, count] => {
                    let attempt: u32 = attempt.parse().map_err(corrupt)?;
                    tracing::info!(job_id = %id, attempt, "job reclaimed from a consumer that died or stalled");
                    Ok(Delivery {
                        id: id.parse().map_err(corrupt)?,
                        topic: topic.to_owned(),
                        payload: serde_json::from_str(payload).map_err(corrupt)?,
                        attempt,
                        receipt: Receipt::format(entry, count, consumer),
                    })
                }
                _ => Err(corrupt("unexpected reclaim reply")),
            })
            .collect()
    }

    /// A dedicated connection for a blocking read: from the pool, or a new one.
    async fn blocking_conn(&self) -> Result<MultiplexedConnection, PortError> {
        if let Some(conn) = self
            .blocking
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
        {
            return Ok(conn);
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(None);
        Ok(self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?)
    }

    fn return_blocking_conn(&self, conn: MultiplexedConnection) {
        let mut pool = self.blocking.lock().unwrap_or_else(PoisonError::into_inner);
        if pool.len() < BLOCKING_POOL {
            pool.push(conn);
        }
    }

    /// XREADGROUP of new entries, blocking up to `block` (not at all when zero) on a
    /// dedicated connection. Entries beyond `max` are kept as the consumer's spares.
    async fn read_new(
        &self,
        consumer: &str,
        topics: &[String],
        max: usize,
        block: Duration,
    ) -> Result<Vec<Delivery>, PortError> {
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(GROUP)
            .arg(consumer)
            .arg("COUNT")
            .arg(max);
        let block_ms = millis(block);
        if block_ms > 0 {
            cmd.arg("BLOCK").arg(block_ms);
        }
        cmd.arg("STREAMS");
        for topic in topics {
            cmd.arg(self.stream(topic));
        }
        for _ in topics {
            cmd.arg(">");
        }

        let mut conn = self.blocking_conn().await?;
        // A connection whose read was cut short may still get its reply later: never reuse it.
        let reply: Option<StreamReadReply> =
            match tokio::time::timeout(block + BLOCK_GRACE, cmd.query_async(&mut conn)).await {
                Ok(Ok(reply)) => {
                    self.return_blocking_conn(conn);
                    reply
                }
                Ok(Err(err)) => {
                    if is_outage(&err) || err.is_io_error() {
                        // Redis went away: every pooled connection is as dead as this one.
                        self.blocking
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .clear();
                    } else {
                        self.return_blocking_conn(conn);
                    }
                    return Err(err.into());
                }
                Err(_) => {
                    return Err(PortError::backend(
                        "redis",
                        "blocking read did not answer in time",
                    ));
                }
            };

        let prefix = self.stream_prefix();
        let mut out = Vec::new();
        let mut extra = Vec::new();
        for stream in reply.map(|r| r.keys).unwrap_or_default() {
            let topic = stream
                .key
                .strip_prefix(&prefix)
                .ok_or_else(|| corrupt(format!("unexpected stream {}", stream.key)))?
                .to_owned();
            for entry in stream.ids {
                let id = field(&entry, "id")?;
                let payload = field(&entry, "payload")?;
                let attempt = field(&entry, "attempt")?;
                let delivery = Delivery {
                    id: id.parse().map_err(corrupt)?,
                    topic: topic.clone(),
                    payload: serde_json::from_str(&payload).map_err(corrupt)?,
                    attempt: attempt.parse().map_err(corrupt)?,
                    receipt: Receipt::format(&entry.id, "1", consumer),
                };
                if out.len() < max {
                    out.push(delivery);
                } else {
                    extra.push(delivery);
                }
            }
        }
        if !extra.is_empty() {
            let read_at = Instant::now();
            let mut spares = self.spares.lock().unwrap_or_else(PoisonError::into_inner);
            spares.extend(extra.into_iter().map(|delivery| Spare {
                consumer: consumer.to_owned(),
                read_at,
                delivery,
            }));
        }
        Ok(out)
    }
}

#[async_trait]
impl Queue for RedisQueue {
    async fn enqueue(&self, job: NewJob) -> Result<(), PortError> {
        self.enqueue_many(vec![job]).await.map(drop)
    }

    #[tracing::instrument(skip_all, fields(jobs = jobs.len()))]
    async fn enqueue_many(&self, jobs: Vec<NewJob>) -> Result<String, PortError> {
        let now = Utc::now().timestamp_millis();
        let mut inv = self.scripts.enqueue_many.prepare_invoke();
        inv.key(self.key("topics"))
            .key(self.key("delayed"))
            .key(self.key("epoch"))
            .arg(GROUP)
            .arg(self.stream_prefix())
            .arg(new_epoch())
            .arg(now);
        let mut earliest_delayed: Option<i64> = None;
        for job in &jobs {
            let payload = serde_json::to_string(&job.payload).map_err(corrupt)?;
            let due = job.run_at.map_or(0, |at| at.timestamp_millis());
            let value = if due > now {
                earliest_delayed = Some(earliest_delayed.map_or(due, |d| d.min(due)));
                serde_json::to_string(&DelayedJob {
                    id: job.id,
                    topic: &job.topic,
                    payload: &payload,
                    attempt: 1,
                })
                .map_err(corrupt)?
            } else {
                payload
            };
            inv.arg(&job.topic)
                .arg(job.id.to_string())
                .arg(value)
                .arg(due);
        }
        let mut conn = self.conn.clone();
        let epoch: String = inv.invoke_async(&mut conn).await?;
        if let Some(due) = earliest_delayed {
            self.pace().saw_delayed(due);
        }
        self.saw_epoch(&epoch);
        Ok(epoch)
    }

    async fn epoch(&self) -> Result<String, PortError> {
        let mut conn = self.conn.clone();
        let epoch: String = self
            .scripts
            .epoch
            .key(self.key("epoch"))
            .arg(new_epoch())
            .invoke_async(&mut conn)
            .await?;
        self.saw_epoch(&epoch);
        Ok(epoch)
    }

    fn in_database(&self) -> bool {
        false
    }

    #[tracing::instrument(skip(self, topics), fields(topics = ?topics))]
    async fn receive(
        &self,
        consumer: &str,
        topics: &[String],
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Delivery>, PortError> {
        if max == 0 || topics.is_empty() {
            return Ok(Vec::new());
        }
        self.keep_alive(consumer).await?;
        match self.receive_from(consumer, topics, max, wait).await {
            Err(e) if e.to_string().contains("NOGROUP") => {
                // Redis lost the groups (it came back empty, or the keys were deleted):
                // create them again and read once more.
                tracing::warn!(error = %e, "a consumer group is gone; creating the groups again");
                self.known
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clear();
                self.receive_from(consumer, topics, max, wait).await
            }
            other => other,
        }
    }

    #[tracing::instrument(skip(self, delivery), fields(job_id = %delivery.id, attempt = delivery.attempt))]
    async fn ack(&self, delivery: &Delivery) -> Result<(), PortError> {
        let receipt = Receipt::parse(&delivery.receipt)?;
        let mut conn = self.conn.clone();
        let acked: i64 = self
            .scripts
            .ack
            .key(self.stream(&delivery.topic))
            .arg(GROUP)
            .arg(receipt.entry)
            .arg(receipt.consumer)
            .arg(receipt.count)
            .invoke_async(&mut conn)
            .await?;
        if acked == 0 {
            tracing::warn!("stale ack ignored: the lease was lost and the job redelivered");
        }
        Ok(())
    }

    #[tracing::instrument(skip(self, delivery, error), fields(job_id = %delivery.id, attempt = delivery.attempt))]
    async fn fail(&self, delivery: &Delivery, error: &str) -> Result<FailOutcome, PortError> {
        let receipt = Receipt::parse(&delivery.receipt)?;
        let payload = serde_json::to_string(&delivery.payload).map_err(corrupt)?;
        let (outcome, due_ms, member) = if delivery.attempt >= self.policy.max_attempts {
            (FailOutcome::DeadLettered, 0, String::new())
        } else {
            let after = self.policy.backoff(delivery.attempt);
            let due = Utc::now().timestamp_millis()
                + i64::try_from(after.as_millis()).unwrap_or(i64::MAX / 2);
            let member = serde_json::to_string(&DelayedJob {
                id: delivery.id,
                topic: &delivery.topic,
                payload: &payload,
                attempt: delivery.attempt + 1,
            })
            .map_err(corrupt)?;
            (FailOutcome::Retrying { after }, due, member)
        };
        let mode = match outcome {
            FailOutcome::DeadLettered => "dead",
            FailOutcome::Retrying { .. } => "retry",
        };
        let mut conn = self.conn.clone();
        let done: i64 = self
            .scripts
            .fail
            .key(self.stream(&delivery.topic))
            .key(self.key("delayed"))
            .key(self.key("dead"))
            .arg(GROUP)
            .arg(receipt.entry)
            .arg(receipt.consumer)
            .arg(receipt.count)
            .arg(mode)
            .arg(due_ms)
            .arg(member)
            .arg(delivery.id.to_string())
            .arg(&delivery.topic)
            .arg(payload)
            .arg(delivery.attempt)
            .arg(error)
            .invoke_async(&mut conn)
            .await?;
        if done == 0 {
            tracing::warn!("stale fail ignored: the lease was lost and the job redelivered");
            return Ok(FailOutcome::Retrying {
                after: Duration::ZERO,
            });
        }
        match outcome {
            FailOutcome::DeadLettered => tracing::warn!(error, "job dead-lettered"),
            FailOutcome::Retrying { .. } => self.pace().saw_delayed(due_ms),
        }
        Ok(outcome)
    }

    #[tracing::instrument(skip(self))]
    async fn depth(&self) -> Result<QueueDepth, PortError> {
        let mut conn = self.conn.clone();
        let counts: Vec<i64> = self
            .scripts
            .depth
            .key(self.key("topics"))
            .key(self.key("delayed"))
            .key(self.key("dead"))
            .arg(self.stream_prefix())
            .arg(GROUP)
            .invoke_async(&mut conn)
            .await?;
        let count = |i: usize| -> Result<u64, PortError> {
            let n = counts
                .get(i)
                .copied()
                .ok_or_else(|| corrupt("short depth reply"))?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        Ok(QueueDepth {
            ready: count(0)?,
            in_flight: count(1)?,
            delayed: count(2)?,
            dead: count(3)?,
        })
    }

    #[tracing::instrument(skip(self))]
    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadJob>, PortError> {
        let mut conn = self.conn.clone();
        let reply: StreamRangeReply = redis::cmd("XRANGE")
            .arg(self.key("dead"))
            .arg("-")
            .arg("+")
            .arg("COUNT")
            .arg(limit)
            .query_async(&mut conn)
            .await?;
        reply
            .ids
            .iter()
            .map(|entry| {
                Ok(DeadJob {
                    id: field(entry, "id")?.parse().map_err(corrupt)?,
                    topic: field(entry, "topic")?,
                    payload: serde_json::from_str(&field(entry, "payload")?).map_err(corrupt)?,
                    attempts: field(entry, "attempts")?.parse().map_err(corrupt)?,
                    last_error: field(entry, "last_error")?,
                })
            })
            .collect()
    }

    #[tracing::instrument(skip(self))]
    async fn ping(&self) -> Result<(), PortError> {
        let mut conn = self.conn.clone();
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }
}
