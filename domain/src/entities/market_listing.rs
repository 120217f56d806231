//! The `market_listings` table. Schema owned by `wufei-migrations` (`m20261207_000014_marketplace`).

use sea_orm::entity::prelude::*;

/// Where a listing stands.
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
#[schema(as = ListingStatus)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being written by its merchant.
    #[sea_orm(string_value = "draft")]
    Draft,
    /// Waiting for an administrator.
    #[sea_orm(string_value = "pending_review")]
    PendingReview,
    /// Public.
    #[sea_orm(string_value = "published")]
    Published,
    /// Taken off by its merchant or, with a reason, by an administrator.
    #[sea_orm(string_value = "withdrawn")]
    Withdrawn,
    /// Refused by an administrator, with a reason.
    #[sea_orm(string_value = "rejected")]
    Rejected,
}

impl Status {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::PendingReview => "pending_review",
            Status::Published => "published",
            Status::Withdrawn => "withdrawn",
            Status::Rejected => "rejected",
        }
    }
}

/// A merchant's offer of a recycled product.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "market_listings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub merchant_id: Uuid,
    pub product_type: String,
    pub title: String,
    pub description: String,
    pub spec: String,
    pub standard: String,
    pub unit: String,
    pub price_fen: i64,
    pub stock: i64,
    pub min_order: i64,
    pub lat: f64,
    pub lng: f64,
    pub address: String,
    pub district_code: String,
    pub delivery_radius_km: i32,
    pub photo_ids: String,
    pub status: Status,
    pub reason: Option<String>,
    pub taken_down: bool,
    pub certified: bool,
    pub procurement_ready: bool,
    pub version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
