//! The `indicator_values` table. Schema owned by `wufei-migrations` (`m20261207_000015_plan`).

use sea_orm::entity::prelude::*;

/// A value of an indicator for a year, as an administrator reported it.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "indicator_values")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub indicator_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub year: i32,
    pub value: f64,
    pub source: String,
    pub evidence_id: Option<Uuid>,
    pub entered_by: Uuid,
    pub entered_at: DateTimeUtc,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
