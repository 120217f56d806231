//! The `recycling_rollups` table. Schema owned by `wufei-migrations` (`m20261207_000017_stats`).

use sea_orm::entity::prelude::*;

/// Where a recycling-ledger line comes from.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    serde::Deserialize,
    serde::Serialize,
    utoipa::ToSchema,
)]
#[schema(as = RecyclingSource)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A door-to-door pickup, settled.
    #[sea_orm(string_value = "pickup")]
    Pickup,
    /// A smart device's deposit.
    #[sea_orm(string_value = "device")]
    Device,
}

impl Source {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Pickup => "pickup",
            Source::Device => "device",
        }
    }
}

/// The recycling ledger summed per month (Beijing), district, category and source.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recycling_rollups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub month: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub district_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub category_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub source: Source,
    pub weight_g: i64,
    pub items: i64,
    pub points: i64,
    pub lines: i64,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
