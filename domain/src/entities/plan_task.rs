//! The `plan_tasks` table. Schema owned by `wufei-migrations` (`m20261207_000015_plan`).

use sea_orm::entity::prelude::*;

/// How far a task has come, as its latest update says.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Deserialize,
    serde::Serialize,
    utoipa::ToSchema,
)]
#[schema(as = TaskStatus)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// No update yet.
    #[sea_orm(string_value = "not_reported")]
    NotReported,
    /// Not started.
    #[sea_orm(string_value = "not_started")]
    NotStarted,
    /// Under way.
    #[sea_orm(string_value = "in_progress")]
    InProgress,
    /// Done.
    #[sea_orm(string_value = "completed")]
    Completed,
    /// Behind its deadline.
    #[sea_orm(string_value = "delayed")]
    Delayed,
}

impl Status {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotReported => "not_reported",
            Status::NotStarted => "not_started",
            Status::InProgress => "in_progress",
            Status::Completed => "completed",
            Status::Delayed => "delayed",
        }
    }
}

/// One of the plan's tasks (reference data from `domain/data/plan/tasks.json`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_tasks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub section: String,
    pub top_section: String,
    pub title: String,
    pub text: String,
    pub lead_units: String,
    pub responsible_units: String,
    pub deadline: Option<String>,
    pub deadline_date: Option<Date>,
    pub status: Status,
    pub updated_at: Option<DateTimeUtc>,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
