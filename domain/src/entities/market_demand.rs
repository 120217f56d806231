//! The `market_demands` table. Schema owned by `wufei-migrations` (`m20261207_000014_marketplace`).

use sea_orm::entity::prelude::*;

/// Where a demand stands.
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
#[schema(as = DemandStatus)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Looking for supply.
    #[sea_orm(string_value = "open")]
    Open,
    /// Its merchant found what it needed.
    #[sea_orm(string_value = "fulfilled")]
    Fulfilled,
    /// Closed by its merchant.
    #[sea_orm(string_value = "closed")]
    Closed,
    /// Its needed-by date passed.
    #[sea_orm(string_value = "expired")]
    Expired,
}

impl Status {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Fulfilled => "fulfilled",
            Status::Closed => "closed",
            Status::Expired => "expired",
        }
    }
}

/// A merchant's request to buy (求购).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "market_demands")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub merchant_id: Uuid,
    pub product_type: String,
    pub title: String,
    pub quantity: i64,
    pub unit: String,
    pub max_price_fen: Option<i64>,
    pub district_code: String,
    pub lat: f64,
    pub lng: f64,
    pub address: String,
    pub needed_by: Date,
    pub status: Status,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
