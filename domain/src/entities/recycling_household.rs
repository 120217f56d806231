//! The `recycling_households` table. Schema owned by `wufei-migrations` (`m20261207_000017_stats`).

use sea_orm::entity::prelude::*;

pub use super::recycling_rollup::Source;

/// A household (resident account) served in a month, district and source.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recycling_households")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub month: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub district_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub source: Source,
    #[sea_orm(primary_key, auto_increment = false)]
    pub resident_id: Uuid,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
