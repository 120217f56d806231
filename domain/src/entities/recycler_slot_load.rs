//! The `recycler_slot_loads` table.

use sea_orm::entity::prelude::*;

/// One row of `recycler_slot_loads`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "recycler_slot_loads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub recycler_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub slot_id: Uuid,
    pub load: i32,
    pub capacity: i32,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
