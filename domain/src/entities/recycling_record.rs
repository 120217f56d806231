//! The `recycling_records` table. Schema owned by `wufei-migrations` (`m20261129_000007_points`).

use sea_orm::entity::prelude::*;

/// A line of the recycling ledger (回收数据电子统计台账). Immutable; corrections are further lines.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recycling_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub source_key: String,
    pub transaction_id: Uuid,
    pub pickup_id: Option<Uuid>,
    pub device_event_id: Option<Uuid>,
    pub category_id: Uuid,
    pub weight_g: i64,
    pub count: i64,
    pub points: i64,
    pub fee_fen: i64,
    pub district_code: String,
    pub community_id: Option<Uuid>,
    pub recycler_id: Option<Uuid>,
    pub local_date: String,
    pub created_at: DateTimeUtc,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
