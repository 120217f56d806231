//! The `addresses` table.

use sea_orm::entity::prelude::*;

/// One row of `addresses`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "addresses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub label: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub district_code: String,
    pub community: String,
    pub community_id: Option<Uuid>,
    pub detail: String,
    pub lat: f64,
    pub lng: f64,
    pub deleted: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
