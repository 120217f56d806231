//! The `devices` table. Schema owned by `wufei-migrations` (`m20261129_000007_points`).

use sea_orm::entity::prelude::*;

/// What a device is; decides which categories it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum Kind {
    /// A recycling bin (any category but kitchen waste).
    #[sea_orm(string_value = "recycling_bin")]
    RecyclingBin,
    /// A kitchen-waste scale (kitchen waste only, credited by weight).
    #[sea_orm(string_value = "kitchen_waste_scale")]
    KitchenWasteScale,
}

impl Kind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::RecyclingBin => "recycling_bin",
            Kind::KitchenWasteScale => "kitchen_waste_scale",
        }
    }

    /// The kind stored as `name`, if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "recycling_bin" => Some(Kind::RecyclingBin),
            "kitchen_waste_scale" => Some(Kind::KitchenWasteScale),
            _ => None,
        }
    }
}

/// A registered smart device (recycling bin, kitchen-waste scale).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "devices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: Kind,
    pub name: String,
    pub district_code: String,
    pub station: String,
    pub secret: String,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub last_seen_at: Option<DateTimeUtc>,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
