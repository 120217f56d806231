//! The `jobs` table: the embedded queue's durable store (see
//! `crate::ports::queue::embedded`). Only that adapter reads or writes it; services enqueue
//! through the outbox, never by inserting here.

use sea_orm::entity::prelude::*;

/// One row of `jobs`: a job waiting, in flight (leased), or dead-lettered.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    /// The job's stable id (the outbox row's id).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Which handler runs it.
    pub topic: String,
    /// The handler's input, JSON text.
    pub payload: String,
    /// Deliveries made so far; the current lease is identified by this number.
    pub attempts: i32,
    /// Not delivered before this instant (first run, or the next retry after a backoff).
    pub run_at: DateTimeUtc,
    /// The consumer holding the current lease, if any.
    pub locked_by: Option<String>,
    /// When the current lease expires; after that the job is delivered again.
    pub locked_until: Option<DateTimeUtc>,
    /// The last handler error.
    pub last_error: Option<String>,
    /// Dead-lettered: never delivered again.
    pub dead: bool,
    /// When the job was enqueued.
    pub created_at: DateTimeUtc,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
