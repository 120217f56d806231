//! The embedded queue adapter: jobs live in the `jobs` table of the application database
//! (SQLite in the single-process footprint, PostgreSQL works too), so a crash loses nothing.
//!
//! A delivery is a lease: `receive` claims a row with a conditional `UPDATE … WHERE id = ?
//! AND attempts = ? AND (locked_until IS NULL OR locked_until < now)`, so two consumers never
//! hold the same job; the row's `attempts` number identifies the lease and is the receipt.
//! `ack` deletes the row only while that lease is still the current one. Receivers in this
//! process are woken at once by a [`Notify`] on enqueue; otherwise they poll.
//!
//! This module must never hold a write transaction open across an await on anything but the
//! database (SQLite allows one writer), and never deletes a row whose lease it does not hold.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, Order, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use tokio::sync::Notify;

use super::{DeadJob, Delivery, FailOutcome, NewJob, Queue, QueueDepth, QueuePolicy};
use crate::entities::job;
use crate::ports::PortError;

/// How often an idle receiver looks at the table when no in-process enqueue woke it (jobs
/// enqueued by another process, delayed jobs coming due, leases expiring).
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// This adapter's epoch, forever: its jobs live in the application database and are lost
/// only with the outbox itself.
const EPOCH: &str = "database";

/// The `last_error` of a job dead-lettered because its last consumer never answered.
const LEASE_EXPIRED: &str = "visibility timeout expired on the last attempt";

/// The queue on the application database. Cheap to clone; clones share the wake-up signal.
#[derive(Debug, Clone)]
pub struct EmbeddedQueue {
    db: DatabaseConnection,
    policy: QueuePolicy,
    notify: Arc<Notify>,
    backend: &'static str,
    /// When this queue last dead-lettered jobs whose last lease expired.
    swept_at: Arc<std::sync::Mutex<Option<std::time::Instant>>>,
}

impl EmbeddedQueue {
    /// A queue over `db`, whose schema must be migrated (`wufei_migrations::Migrator`).
    pub fn new(db: DatabaseConnection, policy: QueuePolicy) -> Self {
        let backend = match db.get_database_backend() {
            DbBackend::Sqlite => "sqlite",
            DbBackend::Postgres => "postgres",
            _ => "database",
        };
        Self {
            db,
            policy,
            notify: Arc::new(Notify::new()),
            backend,
            swept_at: Arc::default(),
        }
    }

    /// The retry and visibility policy this queue applies.
    pub fn policy(&self) -> &QueuePolicy {
        &self.policy
    }

    /// Ends every lease now, so jobs a dead process held are delivered again at once
    /// instead of after the visibility timeout. Only for a process that is the queue's sole
    /// consumer, at its start: on SQLite, `wufei-api` is (a live consumer's lease would be
    /// taken from it). Returns how many leases it ended.
    pub async fn release_leases(&self) -> Result<u64, PortError> {
        let released = job::Entity::update_many()
            .col_expr(job::Column::LockedUntil, Expr::value(Utc::now()))
            .filter(job::Column::Dead.eq(false))
            .filter(job::Column::LockedUntil.gt(Utc::now()))
            .exec(&self.db)
            .await
            .map_err(|e| self.err(e))?
            .rows_affected;
        if released > 0 {
            tracing::info!(jobs = released, "jobs a stopped process held are due again");
        }
        Ok(released)
    }

    fn err(&self, err: DbErr) -> PortError {
        PortError::backend(self.backend, err)
    }

    fn corrupt(&self, message: impl std::fmt::Display) -> PortError {
        PortError::Corrupt {
            backend: self.backend,
            message: message.to_string(),
        }
    }

    /// Whether to look for jobs whose last lease expired now; if so, notes that it did.
    fn sweep_due(&self) -> bool {
        let every = self.policy.visibility_timeout / 4;
        let mut swept = self
            .swept_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = std::time::Instant::now();
        if swept.is_some_and(|at| now.duration_since(at) < every) {
            return false;
        }
        *swept = Some(now);
        true
    }

    fn visibility(&self) -> Result<chrono::Duration, PortError> {
        chrono::Duration::from_std(self.policy.visibility_timeout).map_err(|e| self.corrupt(e))
    }

    /// One pass over the table: claims up to `max` due jobs of `topics` for `consumer` in
    /// one statement (`UPDATE … WHERE id IN (SELECT … LIMIT max) RETURNING`; on PostgreSQL
    /// the inner select skips rows another consumer is claiming, SQLite has one writer).
    /// Jobs whose lease expired on their last allowed attempt are dead-lettered first (at
    /// most every quarter of the visibility timeout; until then they are only skipped).
    async fn claim(
        &self,
        consumer: &str,
        topics: &[String],
        max: usize,
    ) -> Result<Vec<Delivery>, PortError> {
        let now = Utc::now();
        let max_attempts = i32::try_from(self.policy.max_attempts).unwrap_or(i32::MAX);
        let exhausted = Condition::all()
            .add(job::Column::LockedUntil.is_not_null())
            .add(job::Column::LockedUntil.lt(now))
            .add(job::Column::Attempts.gte(max_attempts));
        if self.sweep_due() {
            job::Entity::update_many()
                .col_expr(job::Column::Dead, Expr::value(true))
                .col_expr(job::Column::LockedBy, Expr::value(Option::<String>::None))
                .col_expr(
                    job::Column::LockedUntil,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .col_expr(job::Column::LastError, Expr::value(LEASE_EXPIRED))
                .filter(job::Column::Dead.eq(false))
                .filter(job::Column::Topic.is_in(topics.iter().cloned()))
                .filter(exhausted.clone())
                .exec(&self.db)
                .await
                .map_err(|e| self.err(e))?;
        }

        let mut due = Query::select();
        due.column(job::Column::Id)
            .from(job::Entity)
            .and_where(job::Column::Dead.eq(false))
            .and_where(job::Column::Topic.is_in(topics.iter().cloned()))
            .and_where(job::Column::RunAt.lte(now))
            .cond_where(lease_free(now))
            .cond_where(exhausted.not())
            .order_by(job::Column::RunAt, Order::Asc)
            .order_by(job::Column::Id, Order::Asc)
            .limit(u64::try_from(max).unwrap_or(u64::MAX));
        if self.db.get_database_backend() == DbBackend::Postgres {
            due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let until = now + self.visibility()?;
        let mut claimed = job::Entity::update_many()
            .col_expr(
                job::Column::Attempts,
                Expr::col(job::Column::Attempts).add(1),
            )
            .col_expr(job::Column::LockedBy, Expr::value(consumer))
            .col_expr(job::Column::LockedUntil, Expr::value(until))
            .filter(job::Column::Id.in_subquery(due))
            .exec_with_returning(&self.db)
            .await
            .map_err(|e| self.err(e))?;
        claimed.sort_by_key(|a| (a.run_at, a.id));
        claimed
            .into_iter()
            .map(|row| {
                let payload = serde_json::from_str(&row.payload).map_err(|e| self.corrupt(e))?;
                let attempt = u32::try_from(row.attempts).map_err(|e| self.corrupt(e))?;
                Ok(Delivery {
                    id: row.id,
                    topic: row.topic,
                    payload,
                    attempt,
                    receipt: attempt.to_string(),
                })
            })
            .collect()
    }

    /// The condition "this delivery's lease is still the row's current lease".
    fn held(&self, delivery: &Delivery) -> Result<Condition, PortError> {
        let attempts: i32 = delivery
            .receipt
            .parse()
            .map_err(|_| self.corrupt(format!("bad receipt {:?}", delivery.receipt)))?;
        Ok(Condition::all()
            .add(job::Column::Id.eq(delivery.id))
            .add(job::Column::Attempts.eq(attempts))
            .add(job::Column::Dead.eq(false))
            .add(job::Column::LockedUntil.is_not_null()))
    }
}

/// Rows no consumer holds a live lease on.
fn lease_free(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(job::Column::LockedUntil.is_null())
        .add(job::Column::LockedUntil.lt(now))
}

#[async_trait]
impl Queue for EmbeddedQueue {
    #[tracing::instrument(skip_all, fields(jobs = jobs.len()))]
    async fn enqueue_many(&self, jobs: Vec<NewJob>) -> Result<String, PortError> {
        if jobs.is_empty() {
            return Ok(EPOCH.to_owned());
        }
        let now = Utc::now();
        let rows = jobs
            .into_iter()
            .map(|job| {
                Ok(job::ActiveModel {
                    id: Set(job.id),
                    topic: Set(job.topic),
                    payload: Set(serde_json::to_string(&job.payload).map_err(|e| self.corrupt(e))?),
                    attempts: Set(0),
                    run_at: Set(job.run_at.unwrap_or(now)),
                    locked_by: Set(None),
                    locked_until: Set(None),
                    last_error: Set(None),
                    dead: Set(false),
                    created_at: Set(now),
                })
            })
            .collect::<Result<Vec<_>, PortError>>()?;
        // The same id still queued means the same job relayed twice: keep the one we have.
        job::Entity::insert_many(rows)
            .on_conflict_do_nothing_on([job::Column::Id])
            .exec_without_returning(&self.db)
            .await
            .map_err(|e| self.err(e))?;
        self.notify.notify_waiters();
        Ok(EPOCH.to_owned())
    }

    async fn epoch(&self) -> Result<String, PortError> {
        Ok(EPOCH.to_owned())
    }

    fn in_database(&self) -> bool {
        true
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
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before looking, so an enqueue between the look and the sleep wakes us.
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();

            let got = self.claim(consumer, topics, max).await?;
            let now = tokio::time::Instant::now();
            if !got.is_empty() || now >= deadline {
                return Ok(got);
            }
            let nap = (deadline - now).min(POLL_INTERVAL);
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep(nap) => {}
            }
        }
    }

    #[tracing::instrument(skip(self, delivery), fields(job_id = %delivery.id, attempt = delivery.attempt))]
    async fn ack(&self, delivery: &Delivery) -> Result<(), PortError> {
        let deleted = job::Entity::delete_many()
            .filter(self.held(delivery)?)
            .exec(&self.db)
            .await
            .map_err(|e| self.err(e))?;
        if deleted.rows_affected == 0 {
            tracing::warn!("stale ack ignored: the lease was lost and the job redelivered");
        }
        Ok(())
    }

    #[tracing::instrument(skip(self, delivery, error), fields(job_id = %delivery.id, attempt = delivery.attempt))]
    async fn fail(&self, delivery: &Delivery, error: &str) -> Result<FailOutcome, PortError> {
        let held = self.held(delivery)?;
        let none_time = Expr::value(Option::<DateTime<Utc>>::None);
        let update = job::Entity::update_many()
            .col_expr(job::Column::LockedBy, Expr::value(Option::<String>::None))
            .col_expr(job::Column::LockedUntil, none_time)
            .col_expr(job::Column::LastError, Expr::value(error));
        let (update, outcome) = if delivery.attempt >= self.policy.max_attempts {
            (
                update.col_expr(job::Column::Dead, Expr::value(true)),
                FailOutcome::DeadLettered,
            )
        } else {
            let after = self.policy.backoff(delivery.attempt);
            let run_at =
                Utc::now() + chrono::Duration::from_std(after).map_err(|e| self.corrupt(e))?;
            (
                update.col_expr(job::Column::RunAt, Expr::value(run_at)),
                FailOutcome::Retrying { after },
            )
        };
        let changed = update
            .filter(held)
            .exec(&self.db)
            .await
            .map_err(|e| self.err(e))?;
        if changed.rows_affected == 0 {
            tracing::warn!("stale fail ignored: the lease was lost and the job redelivered");
            return Ok(FailOutcome::Retrying {
                after: Duration::ZERO,
            });
        }
        if outcome == FailOutcome::DeadLettered {
            tracing::warn!(error, "job dead-lettered");
        }
        Ok(outcome)
    }

    #[tracing::instrument(skip(self))]
    async fn depth(&self) -> Result<QueueDepth, PortError> {
        let now = Utc::now();
        let live = || job::Entity::find().filter(job::Column::Dead.eq(false));
        let count = |q: sea_orm::Select<job::Entity>| async move {
            q.count(&self.db).await.map_err(|e| self.err(e))
        };
        Ok(QueueDepth {
            ready: count(
                live()
                    .filter(lease_free(now))
                    .filter(job::Column::RunAt.lte(now)),
            )
            .await?,
            delayed: count(
                live()
                    .filter(lease_free(now))
                    .filter(job::Column::RunAt.gt(now)),
            )
            .await?,
            in_flight: count(live().filter(job::Column::LockedUntil.gte(now))).await?,
            dead: count(job::Entity::find().filter(job::Column::Dead.eq(true))).await?,
        })
    }

    #[tracing::instrument(skip(self))]
    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadJob>, PortError> {
        let rows = job::Entity::find()
            .filter(job::Column::Dead.eq(true))
            .order_by_asc(job::Column::CreatedAt)
            .order_by_asc(job::Column::Id)
            .limit(u64::try_from(limit).unwrap_or(u64::MAX))
            .all(&self.db)
            .await
            .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|row| {
                Ok(DeadJob {
                    id: row.id,
                    topic: row.topic,
                    payload: serde_json::from_str(&row.payload).map_err(|e| self.corrupt(e))?,
                    attempts: u32::try_from(row.attempts).map_err(|e| self.corrupt(e))?,
                    last_error: row.last_error.unwrap_or_default(),
                })
            })
            .collect()
    }

    #[tracing::instrument(skip(self))]
    async fn ping(&self) -> Result<(), PortError> {
        self.db.ping().await.map_err(|e| self.err(e))
    }
}
