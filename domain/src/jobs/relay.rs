//! The relay: moves committed outbox rows onto the queue once they are due, the earliest
//! due first.
//!
//! What becomes of a relayed row depends on where the queue keeps its jobs
//! ([`Queue::in_database`]):
//! - in the application database (the embedded footprint): the row is deleted as its job is
//!   enqueued; the job is as durable as the row was;
//! - in a store of its own (Redis): the row is marked relayed, with the queue's epoch, and
//!   stays until the runner reports its job done (acked or dead-lettered, see
//!   [`super::outbox::Done`]). Every [`RECHECK_EVERY`] the relay asks the queue for its
//!   epoch, and a row relayed under another one (Redis came back without its data), or
//!   relayed more than [`RELAY_AGAIN_AFTER`] ago (lost some other way: a failover to a
//!   replica that had not yet received it), is relayed again. So Redis may lose everything
//!   it holds and no job is lost.
//!
//! A crash between enqueue and commit relays a row twice (same job id); handlers are
//! idempotent, so that is harmless. On PostgreSQL several relays share the work with
//! `FOR UPDATE SKIP LOCKED`; SQLite has one process.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, TransactionTrait,
    sea_query::{Expr, LockBehavior, LockType},
};
use tokio_util::sync::CancellationToken;

use super::outbox::OutboxSignal;
use crate::{
    entities::outbox,
    error::Result,
    ports::queue::{NewJob, Queue},
};

/// How often a relay checks that the queue still holds what was relayed to it.
pub const RECHECK_EVERY: Duration = Duration::from_secs(2);
/// A row relayed this long ago whose job is still not done is relayed again: longer than a
/// job's whole life on the queue (eight attempts with their back-off and visibility
/// timeouts take under 15 minutes with the default policy).
pub const RELAY_AGAIN_AFTER: Duration = Duration::from_secs(60 * 60);

/// How long a relay that has just moved rows waits before its next pass: at most this is
/// added to a job's way to the queue under load, and the rows committed meanwhile go in
/// one batch.
pub const LINGER: Duration = Duration::from_millis(10);

/// Moves outbox rows to the queue.
pub struct Relay {
    db: DatabaseConnection,
    queue: Arc<dyn Queue>,
    signal: OutboxSignal,
    batch: u64,
    /// The queue's epoch as this relay last saw it: what it marks rows relayed with.
    epoch: Mutex<Option<String>>,
}

impl Relay {
    /// A relay.
    pub fn new(db: DatabaseConnection, queue: Arc<dyn Queue>, signal: OutboxSignal) -> Self {
        Self {
            db,
            queue,
            signal,
            batch: 100,
            epoch: Mutex::new(None),
        }
    }

    fn last_epoch(&self) -> Option<String> {
        self.epoch
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set_epoch(&self, epoch: &str) {
        *self.epoch.lock().unwrap_or_else(PoisonError::into_inner) = Some(epoch.to_owned());
    }

    /// Relays one batch; returns how many rows moved.
    #[tracing::instrument(skip_all)]
    pub async fn relay_once(&self) -> Result<usize> {
        // A row waits in the outbox until it is due: a delayed job (an offer's timeout) is
        // handed to the queue when it should run, and a booking's dispatch job is left to
        // the process that booked it for a grace period (see `pickups::booking::book`).
        let now = chrono::Utc::now();
        // In the order of `idx_outbox_unrelayed (run_at, id) WHERE relayed_at IS NULL`, so
        // that PostgreSQL walks it and stops at the batch, however many rows wait for later
        // or for their jobs to finish (see those migrations) and whatever the table's
        // statistics say.
        let due = outbox::Entity::find()
            .filter(outbox::Column::RelayedAt.is_null())
            .filter(outbox::Column::RunAt.lte(now));
        let select = due
            .clone()
            .order_by_asc(outbox::Column::RunAt)
            .order_by_asc(outbox::Column::Id)
            .limit(self.batch);
        if self.db.get_database_backend() != DatabaseBackend::Postgres {
            // SQLite: one process, one connection. No transaction may be held here, since
            // the embedded queue writes through the same connection.
            let rows = select.all(&self.db).await?;
            if rows.is_empty() {
                return Ok(0);
            }
            let epoch = self.publish(&rows).await?;
            self.hand_over(&self.db, ids(&rows), &epoch, now).await?;
            return Ok(rows.len());
        }
        // Woken after every job and commit, the relay often finds nothing: a plain read
        // says so in one round trip instead of a transaction's three.
        let any = due
            .order_by_asc(outbox::Column::RunAt)
            .select_only()
            .column(outbox::Column::Id)
            .limit(1)
            .into_tuple::<uuid::Uuid>()
            .one(&self.db)
            .await?;
        if any.is_none() {
            return Ok(0);
        }
        // Take a batch in a transaction that commits only once the queue has the jobs: an
        // enqueue that fails rolls the rows back into the outbox as they were.
        let txn = self.db.begin().await?;
        let taken = select
            .select_only()
            .column(outbox::Column::Id)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        let mut rows = if self.queue.in_database() {
            outbox::Entity::delete_many()
                .filter(outbox::Column::Id.in_subquery(QueryTrait::into_query(taken)))
                .exec_with_returning(&txn)
                .await?
        } else {
            // Marked with the epoch last seen; corrected below if the queue answers
            // another one, still inside the transaction.
            outbox::Entity::update_many()
                .col_expr(outbox::Column::RelayedAt, Expr::value(now))
                .col_expr(outbox::Column::RelayedEpoch, Expr::value(self.last_epoch()))
                .filter(outbox::Column::Id.in_subquery(QueryTrait::into_query(taken)))
                .exec_with_returning(&txn)
                .await?
        };
        rows.sort_by_key(|r| (r.run_at, r.id));
        let epoch = self.publish(&rows).await?;
        if !self.queue.in_database() && self.last_epoch().as_deref() != Some(epoch.as_str()) {
            self.mark(&txn, ids(&rows), &epoch, now).await?;
            self.set_epoch(&epoch);
        }
        txn.commit().await?;
        Ok(rows.len())
    }

    /// Hands the queue the jobs of `rows`; returns the epoch they went in under.
    async fn publish(&self, rows: &[outbox::Model]) -> Result<String> {
        let jobs = rows
            .iter()
            .map(|row| NewJob {
                id: row.id,
                topic: row.topic.clone(),
                payload: serde_json::from_str(&row.payload).unwrap_or(serde_json::Value::Null),
                run_at: Some(row.run_at),
            })
            .collect();
        Ok(self.queue.enqueue_many(jobs).await?)
    }

    /// What becomes of rows whose jobs the queue now has (SQLite: after the enqueue).
    async fn hand_over(
        &self,
        conn: &impl ConnectionTrait,
        ids: Vec<uuid::Uuid>,
        epoch: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        if self.queue.in_database() {
            outbox::Entity::delete_many()
                .filter(outbox::Column::Id.is_in(ids))
                .exec(conn)
                .await?;
        } else {
            self.mark(conn, ids, epoch, now).await?;
        }
        Ok(())
    }

    /// Marks rows relayed under `epoch`.
    async fn mark(
        &self,
        conn: &impl ConnectionTrait,
        ids: Vec<uuid::Uuid>,
        epoch: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        outbox::Entity::update_many()
            .col_expr(outbox::Column::RelayedAt, Expr::value(now))
            .col_expr(outbox::Column::RelayedEpoch, Expr::value(epoch))
            .filter(outbox::Column::Id.is_in(ids))
            .exec(conn)
            .await?;
        Ok(())
    }

    /// Makes rows whose jobs the queue may have lost due again: those relayed under another
    /// epoch than the queue's current one, and those relayed more than
    /// [`RELAY_AGAIN_AFTER`] ago. Returns how many. Nothing to do when the queue keeps its
    /// jobs in the database.
    #[tracing::instrument(skip_all)]
    pub async fn recheck(&self) -> Result<u64> {
        if self.queue.in_database() {
            return Ok(0);
        }
        let epoch = self.queue.epoch().await?;
        self.set_epoch(&epoch);
        let stale = chrono::Utc::now()
            - chrono::Duration::from_std(RELAY_AGAIN_AFTER).unwrap_or(chrono::Duration::MAX);
        let lost = outbox::Entity::update_many()
            .col_expr(
                outbox::Column::RelayedAt,
                Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
            )
            .col_expr(
                outbox::Column::RelayedEpoch,
                Expr::value(Option::<String>::None),
            )
            .filter(outbox::Column::RelayedAt.is_not_null())
            .filter(
                sea_orm::Condition::any()
                    .add(outbox::Column::RelayedEpoch.is_null())
                    .add(outbox::Column::RelayedEpoch.ne(epoch.as_str()))
                    .add(outbox::Column::RelayedAt.lt(stale)),
            )
            .exec(&self.db)
            .await?
            .rows_affected;
        if lost > 0 {
            tracing::warn!(jobs = lost, %epoch, "the queue lost jobs it was given; relaying them again");
        }
        Ok(lost)
    }

    /// Relays until `stop`, waking on commits and polling every 500 ms. While rows keep
    /// coming, a pass that moved some is followed by the next one [`LINGER`] later rather
    /// than at the next commit, so that a busy relay moves batches instead of a transaction
    /// per job. Passes start at least [`LINGER`] apart even when they find nothing: under a
    /// rush of commits that stage nothing due (a booking's dispatch job waits for its
    /// grace), waking on every commit would cost a read per commit.
    ///
    /// Every [`RECHECK_EVERY`] it also makes due again what the queue may have lost
    /// ([`Self::recheck`]).
    pub async fn run(self, stop: CancellationToken) {
        let mut busy = false;
        let mut last: Option<tokio::time::Instant> = None;
        let mut rechecked = tokio::time::Instant::now();
        let mut failing = Failing::default();
        loop {
            if rechecked.elapsed() >= RECHECK_EVERY {
                rechecked = tokio::time::Instant::now();
                match self.recheck().await {
                    Ok(n) => busy |= n > 0,
                    Err(e) => failing.failed("could not check what the queue holds", &e),
                }
            }
            let next = match (busy, last) {
                (true, _) => Some(tokio::time::Instant::now() + LINGER),
                (false, Some(last)) => Some(last + LINGER),
                (false, None) => None,
            };
            if let Some(next) = next {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep_until(next) => {}
                }
            }
            last = Some(tokio::time::Instant::now());
            match self.relay_once().await {
                Ok(n) if n as u64 == self.batch => {
                    failing.recovered();
                    busy = false;
                    last = None;
                    continue;
                }
                Ok(n) => {
                    failing.recovered();
                    busy = n > 0;
                }
                Err(e) => {
                    busy = false;
                    failing.failed("outbox relay failed; retrying", &e);
                }
            }
            if busy {
                continue;
            }
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = self.signal.wait() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
        // One last pass so that work committed before shutdown is not left waiting.
        if let Err(e) = self.relay_once().await {
            tracing::warn!(error = %e, "final outbox relay failed");
        }
    }
}

/// Logs a failing relay once when it starts failing, then at most every
/// [`Failing::REPEAT`], and once when it recovers, rather than every pass (twice a second
/// while Redis is down).
#[derive(Default)]
struct Failing {
    since: Option<tokio::time::Instant>,
    logged: Option<tokio::time::Instant>,
}

impl Failing {
    const REPEAT: Duration = Duration::from_secs(30);

    fn failed(&mut self, what: &str, e: &crate::error::Error) {
        let now = tokio::time::Instant::now();
        self.since.get_or_insert(now);
        if self.logged.is_none_or(|at| now - at >= Self::REPEAT) {
            self.logged = Some(now);
            tracing::warn!(error = %e, "{what}");
        }
    }

    fn recovered(&mut self) {
        if let Some(since) = self.since.take() {
            self.logged = None;
            tracing::info!(
                failing_for_ms = since.elapsed().as_millis() as u64,
                "outbox relay works again"
            );
        }
    }
}

fn ids(rows: &[outbox::Model]) -> Vec<uuid::Uuid> {
    rows.iter().map(|row| row.id).collect()
}
