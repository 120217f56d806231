//! The `pickup_items` table.

use sea_orm::entity::prelude::*;

/// One row of `pickup_items`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "pickup_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub pickup_id: Uuid,
    pub category_id: Uuid,
    pub estimated_weight_g: Option<i32>,
    pub estimated_count: Option<i32>,
    pub actual_weight_g: Option<i32>,
    pub actual_count: Option<i32>,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
