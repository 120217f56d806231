//! The `categories` table, with the typed value of its `unit` column.

use sea_orm::entity::prelude::*;

/// How a category is measured and priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum Unit {
    /// Weighed; rates are per kilogram.
    #[sea_orm(string_value = "kg")]
    Kg,
    /// Counted; rates are per piece.
    #[sea_orm(string_value = "piece")]
    Piece,
}

impl Unit {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Kg => "kg",
            Unit::Piece => "piece",
        }
    }

    /// The unit stored as `name`, if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "kg" => Some(Unit::Kg),
            "piece" => Some(Unit::Piece),
            _ => None,
        }
    }
}

/// One row of `categories`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "categories")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub unit: Unit,
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
