//! The `market_quotes` table. Schema owned by `wufei-migrations` (`m20261207_000014_marketplace`).

use sea_orm::entity::prelude::*;

/// Where a quote stands.
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
#[schema(as = QuoteStatus)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// May be accepted while in force.
    #[sea_orm(string_value = "open")]
    Open,
    /// Accepted: a deal was made.
    #[sea_orm(string_value = "accepted")]
    Accepted,
    /// Replaced by a newer quote or the inquiry closed.
    #[sea_orm(string_value = "withdrawn")]
    Withdrawn,
}

impl Status {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Accepted => "accepted",
            Status::Withdrawn => "withdrawn",
        }
    }
}

/// A supplier's quote on an inquiry.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "market_quotes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub inquiry_id: Uuid,
    pub price_fen: i64,
    pub quantity: i64,
    pub valid_until: DateTimeUtc,
    pub note: String,
    pub status: Status,
    pub created_at: DateTimeUtc,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
