//! The `pickup_slots` table.

use sea_orm::entity::prelude::*;

/// One row of `pickup_slots`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "pickup_slots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub district_code: String,
    pub community_id: Option<Uuid>,
    pub scope_key: String,
    pub local_date: String,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub capacity: i32,
    pub booked: i32,
    pub van_capacity: i32,
    pub van_booked: i32,
    pub template_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
