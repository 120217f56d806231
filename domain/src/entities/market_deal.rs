//! The `market_deals` table. Schema owned by `wufei-migrations` (`m20261207_000014_marketplace`).

use sea_orm::entity::prelude::*;

/// Where a deal stands.
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
#[schema(as = DealStatus)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Agreed; stock set aside.
    #[sea_orm(string_value = "confirmed")]
    Confirmed,
    /// The supplier delivered.
    #[sea_orm(string_value = "delivered")]
    Delivered,
    /// The buyer confirmed receipt.
    #[sea_orm(string_value = "completed")]
    Completed,
    /// Called off; stock given back.
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

impl Status {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Confirmed => "confirmed",
            Status::Delivered => "delivered",
            Status::Completed => "completed",
            Status::Cancelled => "cancelled",
        }
    }
}

/// A deal made by accepting a quote (payment happens offline).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "market_deals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub quote_id: Uuid,
    pub inquiry_id: Uuid,
    pub listing_id: Uuid,
    pub buyer_id: Uuid,
    pub seller_id: Uuid,
    pub product_type: String,
    pub district_code: String,
    pub unit: String,
    pub quantity: i64,
    pub price_fen: i64,
    pub amount_fen: i64,
    pub status: Status,
    pub created_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
    pub completed_at: Option<DateTimeUtc>,
    pub cancelled_at: Option<DateTimeUtc>,
    pub cancelled_by: Option<Uuid>,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
