//! The `device_events` table. Schema owned by `wufei-migrations` (`m20261129_000007_points`).

use sea_orm::entity::prelude::*;

/// A deposit a device reported, kept with the answer it got so a replay answers the same.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "device_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub device_id: Uuid,
    pub event_id: String,
    pub user_id: Uuid,
    pub category_id: Uuid,
    pub weight_g: i64,
    pub credited_g: i64,
    pub points: i64,
    pub transaction_id: Option<Uuid>,
    pub response: String,
    pub created_at: DateTimeUtc,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
