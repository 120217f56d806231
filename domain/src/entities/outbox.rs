//! The `outbox` table.

use sea_orm::entity::prelude::*;

/// One row of `outbox`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub topic: String,
    pub payload: String,
    pub run_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    /// When the relay last handed the row's job to the queue; `None` until then. The row
    /// stays until the job is done (acked or dead-lettered).
    pub relayed_at: Option<DateTimeUtc>,
    /// The queue's epoch the job was handed to it under (see `Queue::epoch`).
    pub relayed_epoch: Option<String>,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
