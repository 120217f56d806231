//! The `point_lots` table. Schema owned by `wufei-migrations` (`m20261129_000007_points`).

use sea_orm::entity::prelude::*;

/// Points a resident received in one transaction, funded by one district, expiring together. `remaining` is maintained by a trigger from `lot_draws`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "point_lots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    pub transaction_id: Uuid,
    pub district_code: String,
    pub points: i64,
    pub remaining: i64,
    pub earned_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
