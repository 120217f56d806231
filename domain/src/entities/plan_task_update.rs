//! The `plan_task_updates` table. Schema owned by `wufei-migrations` (`m20261207_000015_plan`).

use sea_orm::entity::prelude::*;

/// A progress update of a task.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_task_updates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub task_id: i32,
    pub status: super::plan_task::Status,
    pub text: String,
    pub evidence_id: Option<Uuid>,
    pub author_id: Uuid,
    pub created_at: DateTimeUtc,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
