//! The `mall_redemptions` table. Schema owned by `wufei-migrations` (`m20261129_000007_points`).

use sea_orm::entity::prelude::*;

/// Where a redemption stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Points and stock taken; waiting to be collected.
    #[sea_orm(string_value = "reserved")]
    Reserved,
    /// Handed out at a station.
    #[sea_orm(string_value = "fulfilled")]
    Fulfilled,
    /// Cancelled by the resident; points, stock and limit given back.
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

impl Status {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Reserved => "reserved",
            Status::Fulfilled => "fulfilled",
            Status::Cancelled => "cancelled",
        }
    }
}

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
    pub status: Status,
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
