//! The job queue port. Producers never call [`Queue::enqueue`] from a business transaction:
//! they stage a job in the outbox (`crate::jobs::outbox`) inside that transaction, and the
//! relay moves committed outbox rows onto the queue. Delivery is at least once; handlers are
//! idempotent.
//!
//! Adapters: [`embedded::EmbeddedQueue`] (a `jobs` table in the application database,
//! for the single-process footprint) and [`redis::RedisQueue`] (Redis Streams with consumer
//! groups, a sorted set for delayed jobs, a dead-letter stream).

pub mod embedded;
pub mod redis;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::PortError;

/// A job to put on the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewJob {
    /// Stable id, the outbox row's id: the same job relayed twice carries the same id, so a
    /// handler can use it as an idempotency key.
    pub id: Uuid,
    /// Which handler runs it (`pickup.dispatch`, `points.settle` …).
    pub topic: String,
    /// The handler's input.
    pub payload: serde_json::Value,
    /// Not delivered before this instant (delayed jobs); `None` or a past time means now.
    pub run_at: Option<DateTime<Utc>>,
}

/// A job handed to one consumer. Until it is acked or failed, no other consumer receives
/// it; if its consumer dies, it is delivered again after the visibility timeout.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The job's stable id.
    pub id: Uuid,
    /// The job's topic.
    pub topic: String,
    /// The job's input.
    pub payload: serde_json::Value,
    /// 1 on the first delivery, 2 on the first retry, and so on.
    pub attempt: u32,
    /// Adapter-specific handle identifying this delivery (stream entry id, row lock token).
    pub receipt: String,
}

/// What became of a failed delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// Scheduled again after a backoff.
    Retrying {
        /// How long until the next attempt.
        after: Duration,
    },
    /// Attempts exhausted: moved to the dead-letter store for an operator.
    DeadLettered,
}

/// How many jobs are where, for `/metrics` and `/readyz`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct QueueDepth {
    /// Deliverable now.
    pub ready: u64,
    /// Waiting for their `run_at` (delayed jobs and retries in backoff).
    pub delayed: u64,
    /// Handed to a consumer and not yet acked.
    pub in_flight: u64,
    /// Dead-lettered.
    pub dead: u64,
}

/// A dead-lettered job, for operators.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadJob {
    /// The job's stable id.
    pub id: Uuid,
    /// The job's topic.
    pub topic: String,
    /// The job's input.
    pub payload: serde_json::Value,
    /// Deliveries made.
    pub attempts: u32,
    /// The last handler error.
    pub last_error: String,
}

/// Retry and visibility policy shared by both adapters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueuePolicy {
    /// How long a received job stays invisible to other consumers before it is handed out
    /// again (a consumer that died mid-job).
    pub visibility_timeout: Duration,
    /// Deliveries before a job is dead-lettered.
    pub max_attempts: u32,
    /// Backoff before the first retry; doubles per attempt.
    pub backoff_base: Duration,
    /// Upper bound on the backoff.
    pub backoff_max: Duration,
}

impl Default for QueuePolicy {
    fn default() -> Self {
        Self {
            visibility_timeout: Duration::from_secs(60),
            max_attempts: 8,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
        }
    }
}

impl QueuePolicy {
    /// The backoff before delivery number `attempt + 1`, after `attempt` failures.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.backoff_base
            .saturating_mul(factor)
            .min(self.backoff_max)
    }
}

/// The queue port.
#[async_trait]
pub trait Queue: Send + Sync + 'static {
    /// Puts a job on the queue. Enqueueing the same `id` twice may deliver it twice; handlers
    /// are idempotent.
    async fn enqueue(&self, job: NewJob) -> Result<(), PortError> {
        self.enqueue_many(vec![job]).await.map(drop)
    }

    /// Puts several jobs on the queue (the relay's batches) in one round trip, and returns
    /// the [`Self::epoch`] they were written under, read in the same atomic step.
    async fn enqueue_many(&self, jobs: Vec<NewJob>) -> Result<String, PortError>;

    /// The queue store's epoch: an id that stays the same for as long as the store keeps
    /// what it was given, and changes when it lost it (a Redis restarted without its data,
    /// a failover to an empty replica, a flush). Jobs written under an earlier epoch may be
    /// gone and must be enqueued again (the relay does, from the outbox). An adapter whose
    /// store lives in the application database answers a constant: it loses jobs only with
    /// the outbox itself.
    async fn epoch(&self) -> Result<String, PortError>;

    /// Whether the jobs live in the application database itself, so that a job enqueued is
    /// exactly as durable as the outbox row it came from: the relay then hands rows over for
    /// good. Otherwise (Redis) the outbox keeps each row until its job is done, and relays
    /// it again if the queue's store lost it (see `crate::jobs::relay`).
    fn in_database(&self) -> bool;

    /// Waits up to `wait` for jobs of `topics` whose `run_at` has come, and hands at most
    /// `max` of them to `consumer`. Returns early as soon as any job is available. Jobs
    /// left by a consumer that did not ack within the visibility timeout are handed out
    /// again, with `attempt` increased.
    async fn receive(
        &self,
        consumer: &str,
        topics: &[String],
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Delivery>, PortError>;

    /// The job is done; it is never delivered again.
    async fn ack(&self, delivery: &Delivery) -> Result<(), PortError>;

    /// The handler failed: retry after a backoff, or dead-letter once `max_attempts`
    /// deliveries have failed.
    async fn fail(&self, delivery: &Delivery, error: &str) -> Result<FailOutcome, PortError>;

    /// Counts for monitoring.
    async fn depth(&self) -> Result<QueueDepth, PortError>;

    /// Dead-lettered jobs, oldest first.
    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadJob>, PortError>;

    /// Whether the backend answers (for `/readyz`).
    async fn ping(&self) -> Result<(), PortError>;
}
