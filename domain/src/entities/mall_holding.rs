//! The `mall_holdings` table. Schema owned by `wufei-migrations` (`m20261129_000007_points`).

use sea_orm::entity::prelude::*;

/// How many of an item a person holds (reserved or fulfilled).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mall_holdings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub item_id: Uuid,
    pub quantity: i32,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
