//! The `offers` table.

use sea_orm::entity::prelude::*;

/// One row of `offers`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "offers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub pickup_id: Uuid,
    pub recycler_id: Uuid,
    pub round: i32,
    pub status: String,
    pub reason: Option<String>,
    pub expires_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub responded_at: Option<DateTimeUtc>,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
