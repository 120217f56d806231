//! The `recycler_districts` table.

use sea_orm::entity::prelude::*;

/// One row of `recycler_districts`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "recycler_districts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub recycler_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub district_code: String,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
