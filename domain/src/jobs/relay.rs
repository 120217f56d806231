//! The relay: moves committed outbox rows onto the queue once they are due, the earliest
//! due first, then deletes them.
//! A crash between enqueue and delete relays a row twice (same job id); handlers are
//! idempotent, so that is harmless. On PostgreSQL several relays share the work with
//! `FOR UPDATE SKIP LOCKED`; SQLite has one process.

use std::{sync::Arc, time::Duration};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, TransactionTrait,
    sea_query::{LockBehavior, LockType},
};
use tokio_util::sync::CancellationToken;

use super::outbox::OutboxSignal;
use crate::{
    entities::outbox,
    error::Result,
    ports::queue::{NewJob, Queue},
};

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
}

impl Relay {
    /// A relay.
    pub fn new(db: DatabaseConnection, queue: Arc<dyn Queue>, signal: OutboxSignal) -> Self {
        Self {
            db,
            queue,
            signal,
            batch: 100,
        }
    }

    /// Relays one batch; returns how many rows moved.
    #[tracing::instrument(skip_all)]
    pub async fn relay_once(&self) -> Result<usize> {
        // A row waits in the outbox until it is due: a delayed job (an offer's timeout) is
        // handed to the queue when it should run, and a booking's dispatch job is left to
        // the process that booked it for a grace period (see `pickups::booking::book`).
        let now = chrono::Utc::now();
        // In the order of `idx_outbox_due (run_at, id)`, so that PostgreSQL walks it and stops
        // at the batch, however many rows wait for later (see that migration) and whatever
        // the table's statistics say.
        let select = outbox::Entity::find()
            .filter(outbox::Column::RunAt.lte(now))
            .order_by_asc(outbox::Column::RunAt)
            .order_by_asc(outbox::Column::Id)
            .limit(self.batch);
        if self.db.get_database_backend() != DatabaseBackend::Postgres {
            // SQLite: one process, one connection. No transaction may be held here, since
            // the embedded queue writes through the same connection.
            let rows = select.all(&self.db).await?;
            let ids = self.publish(&rows).await?;
            self.delete(&self.db, ids).await?;
            return Ok(rows.len());
        }
        // Woken after every job and commit, the relay often finds nothing: a plain read
        // says so in one round trip instead of a transaction's three.
        let any = outbox::Entity::find()
            .filter(outbox::Column::RunAt.lte(now))
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
        // Take a batch by deleting it, in a transaction that commits only once the queue
        // has the jobs: an enqueue that fails rolls the rows back into the outbox.
        let txn = self.db.begin().await?;
        let mut rows = outbox::Entity::delete_many()
            .filter(
                outbox::Column::Id.in_subquery(QueryTrait::into_query(
                    select
                        .select_only()
                        .column(outbox::Column::Id)
                        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked),
                )),
            )
            .exec_with_returning(&txn)
            .await?;
        rows.sort_by_key(|r| (r.run_at, r.id));
        self.publish(&rows).await?;
        txn.commit().await?;
        Ok(rows.len())
    }

    async fn publish(&self, rows: &[outbox::Model]) -> Result<Vec<uuid::Uuid>> {
        let jobs = rows
            .iter()
            .map(|row| NewJob {
                id: row.id,
                topic: row.topic.clone(),
                payload: serde_json::from_str(&row.payload).unwrap_or(serde_json::Value::Null),
                run_at: Some(row.run_at),
            })
            .collect();
        self.queue.enqueue_many(jobs).await?;
        Ok(rows.iter().map(|row| row.id).collect())
    }

    async fn delete(&self, conn: &impl ConnectionTrait, ids: Vec<uuid::Uuid>) -> Result<()> {
        if !ids.is_empty() {
            outbox::Entity::delete_many()
                .filter(outbox::Column::Id.is_in(ids))
                .exec(conn)
                .await?;
        }
        Ok(())
    }

    /// Relays until `stop`, waking on commits and polling every 500 ms. While rows keep
    /// coming, a pass that moved some is followed by the next one [`LINGER`] later rather
    /// than at the next commit, so that a busy relay moves batches instead of a transaction
    /// per job. Passes start at least [`LINGER`] apart even when they find nothing: under a
    /// rush of commits that stage nothing due (a booking's dispatch job waits for its
    /// grace), waking on every commit would cost a read per commit.
    pub async fn run(self, stop: CancellationToken) {
        let mut busy = false;
        let mut last: Option<tokio::time::Instant> = None;
        loop {
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
                    busy = false;
                    last = None;
                    continue;
                }
                Ok(n) => busy = n > 0,
                Err(e) => {
                    busy = false;
                    tracing::warn!(error = %e, "outbox relay failed; retrying");
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
