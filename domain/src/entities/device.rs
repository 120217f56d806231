//! The `devices` table. Schema owned by `wufei-migrations` (`m20261129_000007_points`).

use sea_orm::entity::prelude::*;

/// A registered smart device (recycling bin, kitchen-waste scale).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "devices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: String,
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
