//! The `market_reports` table. Schema owned by `wufei-migrations` (`m20261207_000014_marketplace`).

use sea_orm::entity::prelude::*;

/// Where a report stands.
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
#[schema(as = ReportStatus)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for an administrator.
    #[sea_orm(string_value = "open")]
    Open,
    /// The listing was taken down.
    #[sea_orm(string_value = "upheld")]
    Upheld,
    /// Nothing wrong found.
    #[sea_orm(string_value = "dismissed")]
    Dismissed,
}

impl Status {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Upheld => "upheld",
            Status::Dismissed => "dismissed",
        }
    }
}

/// A signed-in user's report of a bad listing.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "market_reports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub listing_id: Uuid,
    pub reporter_id: Uuid,
    pub reason: String,
    pub status: Status,
    pub resolved_by: Option<Uuid>,
    pub resolved_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
