//! The `categories` table.

use sea_orm::entity::prelude::*;

/// One row of `categories`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "categories")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub unit: String,
    pub needs_van: bool,
    pub guidance: String,
    pub active: bool,
    pub sort_order: i32,
    pub created_at: DateTimeUtc,
    /// Most a device may credit one resident per local day (grams, or pieces).
    pub device_daily_cap: i64,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
