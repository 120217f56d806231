//! The `points_rollups` table. Schema owned by `wufei-migrations` (`m20261207_000017_stats`).

use sea_orm::entity::prelude::*;

/// A flow of green points the public statistics count.
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
#[schema(as = PointsFlow)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// Paid to residents from a district's programme budget (net of reversals).
    #[sea_orm(string_value = "issued")]
    Issued,
    /// Spent in the mall (net of refunds).
    #[sea_orm(string_value = "redeemed")]
    Redeemed,
    /// Expired.
    #[sea_orm(string_value = "expired")]
    Expired,
}

/// Points per month (Beijing), district and flow.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "points_rollups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub month: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub district_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub flow: Flow,
    pub amount: i64,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
