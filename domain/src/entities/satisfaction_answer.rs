//! The `satisfaction_answers` table. Schema owned by `wufei-migrations` (`m20261207_000018_voice`).

use sea_orm::entity::prelude::*;

/// One account's answer to the satisfaction survey of one quarter (scores 1–5).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "satisfaction_answers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub period: String,
    pub district_code: String,
    pub overall: i32,
    pub pickup: i32,
    pub points: i32,
    pub facilities: i32,
    pub disclosure: i32,
    pub comment: String,
    pub created_at: DateTimeUtc,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
