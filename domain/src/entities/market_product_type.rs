//! The `market_product_types` table. Schema owned by `wufei-migrations` (`m20261207_000014_marketplace`).

use sea_orm::entity::prelude::*;

/// A kind of recycled product (reference data).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "market_product_types")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name: String,
    pub units: String,
    pub standards: String,
    pub position: i32,
    pub created_at: DateTimeUtc,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
