//! The `mall_redemptions` table. Schema owned by `wufei-migrations` (`m20261129_000007_points`).

use sea_orm::entity::prelude::*;

/// A redemption of mall items by a resident.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mall_redemptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub item_id: Uuid,
    pub quantity: i32,
    pub points: i64,
    pub status: String,
    pub pickup_code: String,
    pub transaction_id: Uuid,
    pub refund_transaction_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub fulfilled_at: Option<DateTimeUtc>,
    pub fulfilled_by: Option<Uuid>,
    pub cancelled_at: Option<DateTimeUtc>,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
