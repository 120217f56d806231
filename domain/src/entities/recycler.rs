//! The `recyclers` table.

use sea_orm::entity::prelude::*;

/// One row of `recyclers`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "recyclers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    pub name: String,
    pub phone: String,
    pub id_photo_id: Option<Uuid>,
    pub vehicle: String,
    pub status: String,
    pub review_reason: Option<String>,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub on_shift: bool,
    pub slot_capacity: i32,
    pub rating_sum: i32,
    pub rating_count: i32,
    pub complaints: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
