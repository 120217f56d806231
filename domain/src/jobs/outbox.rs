//! The transactional outbox. [`stage`] is called with the business transaction, so a job
//! exists if and only if the state change that caused it committed. Never enqueue directly
//! from a service. A job staged with a run time stays in the outbox until then (the relay
//! moves due rows only), so until it is due its row can still be claimed by deleting it.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    sea_query::OnConflict,
};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::{entities::outbox, error::Result};

/// Stages a job inside the caller's transaction; returns the job's stable id.
pub async fn stage(
    txn: &impl ConnectionTrait,
    topic: &str,
    payload: serde_json::Value,
    run_at: Option<DateTime<Utc>>,
) -> Result<Uuid> {
    let ids = stage_all(txn, vec![(topic, payload, run_at)]).await?;
    Ok(ids.into_iter().next().unwrap_or_default())
}

/// Stages job `id` inside the caller's transaction, unless the outbox already holds a row
/// with that id: a handler that may run twice for one delivery stages its follow-up under
/// an id derived from the delivery's, and the second run stages nothing.
pub async fn stage_once(
    txn: &impl ConnectionTrait,
    id: Uuid,
    topic: &str,
    payload: serde_json::Value,
    run_at: Option<DateTime<Utc>>,
) -> Result<()> {
    let row = outbox::Model {
        id,
        ..row((topic, payload, run_at), Utc::now())
    };
    outbox::Entity::insert(row.into_active_model().reset_all())
        .on_conflict(
            OnConflict::column(outbox::Column::Id)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// Stages several jobs inside the caller's transaction with one statement; returns their
/// ids in order.
pub async fn stage_all(
    txn: &impl ConnectionTrait,
    jobs: Vec<(&str, serde_json::Value, Option<DateTime<Utc>>)>,
) -> Result<Vec<Uuid>> {
    stage_rows(txn, rows(jobs)).await
}

/// Inserts `rows` with one statement; returns their ids in order.
async fn stage_rows(txn: &impl ConnectionTrait, rows: Vec<outbox::Model>) -> Result<Vec<Uuid>> {
    let ids = rows.iter().map(|r| r.id).collect();
    if !rows.is_empty() {
        outbox::Entity::insert_many(rows.into_iter().map(|r| r.into_active_model().reset_all()))
            .exec_without_returning(txn)
            .await?;
    }
    Ok(ids)
}

/// The outbox rows of `jobs` (topic, payload, run at — now if `None`), to insert.
pub(crate) fn rows(
    jobs: Vec<(&str, serde_json::Value, Option<DateTime<Utc>>)>,
) -> Vec<outbox::Model> {
    let now = Utc::now();
    jobs.into_iter().map(|job| row(job, now)).collect()
}

/// The outbox row of `job` (topic, payload, run at — `now` if `None`), to insert.
pub(crate) fn row(
    (topic, payload, run_at): (&str, serde_json::Value, Option<DateTime<Utc>>),
    now: DateTime<Utc>,
) -> outbox::Model {
    outbox::Model {
        // Ids in staging order, so the relay (due first, then by id) keeps it among jobs
        // due at once.
        id: Uuid::now_v7(),
        topic: topic.to_string(),
        payload: payload.to_string(),
        run_at: run_at.unwrap_or(now),
        created_at: now,
        relayed_at: None,
        relayed_epoch: None,
    }
}

/// Wakes the in-process relay right after a commit that staged jobs, so the embedded
/// footprint does not wait for the next poll.
#[derive(Debug, Clone, Default)]
pub struct OutboxSignal(Arc<Notify>);

impl OutboxSignal {
    /// Call after committing a transaction that staged jobs.
    pub fn committed(&self) {
        self.0.notify_one();
    }

    /// Waits for [`Self::committed`].
    pub async fn wait(&self) {
        self.0.notified().await;
    }
}

/// Deletes the outbox rows of jobs that are done (acked or dead-lettered), for a queue that
/// keeps its jobs outside the database (see `super::relay`). The runner reports each job
/// as it finishes; rows go in batches, one statement per [`Done::EVERY`] or per
/// [`Done::BATCH`] jobs, so finishing a job costs the database next to nothing. A crash
/// before a batch is written leaves its rows behind: the relay relays them again after
/// `RELAY_AGAIN_AFTER` and the (idempotent) handlers find nothing left to do.
#[derive(Debug, Clone)]
pub struct Done {
    db: sea_orm::DatabaseConnection,
    ids: Arc<std::sync::Mutex<Vec<Uuid>>>,
    wake: Arc<Notify>,
}

impl Done {
    /// Longest wait before a reported job's row is deleted.
    pub const EVERY: std::time::Duration = std::time::Duration::from_millis(50);
    /// Rows deleted per statement at most; this many waiting are deleted at once.
    pub const BATCH: usize = 200;

    /// A reporter over `db`; run [`Self::run`] to delete what it is told.
    pub fn new(db: sea_orm::DatabaseConnection) -> Self {
        Self {
            db,
            ids: Arc::default(),
            wake: Arc::default(),
        }
    }

    /// Job `id` is done: its outbox row may go.
    pub fn report(&self, id: Uuid) {
        let mut ids = self
            .ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        ids.push(id);
        if ids.len() >= Self::BATCH {
            self.wake.notify_one();
        }
    }

    /// Deletes reported rows until `stop`, then once more.
    pub async fn run(self, stop: tokio_util::sync::CancellationToken) {
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(Self::EVERY) => {}
            }
            self.flush().await;
        }
        self.flush().await;
    }

    /// Deletes the rows reported so far; on failure keeps them for the next flush.
    pub async fn flush(&self) {
        loop {
            let batch: Vec<Uuid> = {
                let mut ids = self
                    .ids
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let n = ids.len().min(Self::BATCH);
                ids.drain(..n).collect()
            };
            if batch.is_empty() {
                return;
            }
            let deleted = outbox::Entity::delete_many()
                .filter(sea_orm::ColumnTrait::is_in(
                    &outbox::Column::Id,
                    batch.clone(),
                ))
                .exec(&self.db)
                .await;
            if let Err(e) = deleted {
                tracing::warn!(error = %e, jobs = batch.len(), "could not delete the outbox rows of finished jobs; will retry");
                self.ids
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .extend(batch);
                return;
            }
        }
    }
}
