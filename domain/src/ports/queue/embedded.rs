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
use sea_orm::sea_query::{Expr, ExprTrait};
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

/// The `last_error` of a job dead-lettered because its last consumer never answered.
const LEASE_EXPIRED: &str = "visibility timeout expired on the last attempt";

/// The queue on the application database. Cheap to clone; clones share the wake-up signal.
#[derive(Debug, Clone)]
pub struct EmbeddedQueue {
    db: DatabaseConnection,
    policy: QueuePolicy,
    notify: Arc<Notify>,
    backend: &'static str,
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
        }
    }

    /// The retry and visibility policy this queue applies.
    pub fn policy(&self) -> &QueuePolicy {
        &self.policy
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

    fn visibility(&self) -> Result<chrono::Duration, PortError> {
        chrono::Duration::from_std(self.policy.visibility_timeout).map_err(|e| self.corrupt(e))
    }

    /// One pass over the table: claims up to `max` due jobs of `topics` for `consumer`.
    /// Each claim is its own short statement; a row another consumer claimed first is
    /// skipped. A job whose lease expired on its last allowed attempt is dead-lettered here.
    async fn claim(
        &self,
        consumer: &str,
        topics: &[String],
        max: usize,
    ) -> Result<Vec<Delivery>, PortError> {
        let now = Utc::now();
        let candidates = job::Entity::find()
            .filter(job::Column::Dead.eq(false))
            .filter(job::Column::Topic.is_in(topics.iter().cloned()))
            .filter(job::Column::RunAt.lte(now))
            .filter(lease_free(now))
            .order_by_asc(job::Column::RunAt)
            .order_by_asc(job::Column::Id)
            .limit(u64::try_from(max).unwrap_or(u64::MAX))
            .all(&self.db)
            .await
            .map_err(|e| self.err(e))?;

        let until = now + self.visibility()?;
        let max_attempts = i64::from(self.policy.max_attempts);
        let mut out = Vec::with_capacity(candidates.len());
        for row in candidates {
            let same_lease = Condition::all()
                .add(job::Column::Id.eq(row.id))
                .add(job::Column::Attempts.eq(row.attempts))
                .add(job::Column::Dead.eq(false))
                .add(lease_free(now));
            if row.locked_until.is_some() && i64::from(row.attempts) >= max_attempts {
                job::Entity::update_many()
                    .col_expr(job::Column::Dead, Expr::value(true))
                    .col_expr(job::Column::LockedBy, Expr::value(Option::<String>::None))
                    .col_expr(
                        job::Column::LockedUntil,
                        Expr::value(Option::<DateTime<Utc>>::None),
                    )
                    .col_expr(job::Column::LastError, Expr::value(LEASE_EXPIRED))
                    .filter(same_lease)
                    .exec(&self.db)
                    .await
                    .map_err(|e| self.err(e))?;
                tracing::warn!(job_id = %row.id, attempts = row.attempts, "job dead-lettered: lease expired");
                continue;
            }
            let claimed = job::Entity::update_many()
                .col_expr(
                    job::Column::Attempts,
                    Expr::col(job::Column::Attempts).add(1),
                )
                .col_expr(job::Column::LockedBy, Expr::value(consumer))
                .col_expr(job::Column::LockedUntil, Expr::value(until))
                .filter(same_lease)
                .exec(&self.db)
                .await
                .map_err(|e| self.err(e))?;
            if claimed.rows_affected != 1 {
                continue;
            }
            let payload = serde_json::from_str(&row.payload).map_err(|e| self.corrupt(e))?;
            let attempt = u32::try_from(row.attempts + 1).map_err(|e| self.corrupt(e))?;
            out.push(Delivery {
                id: row.id,
                topic: row.topic,
                payload,
                attempt,
                receipt: attempt.to_string(),
            });
        }
        Ok(out)
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
    #[tracing::instrument(skip(self, job), fields(job_id = %job.id, topic = %job.topic))]
    async fn enqueue(&self, job: NewJob) -> Result<(), PortError> {
        let now = Utc::now();
        let payload = serde_json::to_string(&job.payload).map_err(|e| self.corrupt(e))?;
        let row = job::ActiveModel {
            id: Set(job.id),
            topic: Set(job.topic),
            payload: Set(payload),
            attempts: Set(0),
            run_at: Set(job.run_at.unwrap_or(now)),
            locked_by: Set(None),
            locked_until: Set(None),
            last_error: Set(None),
            dead: Set(false),
            created_at: Set(now),
        };
        // The same id still queued means the same job relayed twice: keep the one we have.
        job::Entity::insert(row)
            .on_conflict_do_nothing_on([job::Column::Id])
            .exec_without_returning(&self.db)
            .await
            .map_err(|e| self.err(e))?;
        self.notify.notify_waiters();
        Ok(())
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
