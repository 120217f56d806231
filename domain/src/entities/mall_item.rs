//! The `mall_items` table. Schema owned by `wufei-migrations` (`m20261129_000007_points`).

use sea_orm::entity::prelude::*;

/// An item of the points mall.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mall_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub description: String,
    pub points: i64,
    pub stock: i32,
    pub per_person_limit: Option<i32>,
    pub sale_starts_at: Option<DateTimeUtc>,
    pub sale_ends_at: Option<DateTimeUtc>,
    pub district_code: Option<String>,
    pub station: String,
    pub image_upload_id: Option<Uuid>,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
