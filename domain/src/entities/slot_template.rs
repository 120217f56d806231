//! The `slot_templates` table.

use sea_orm::entity::prelude::*;

/// One row of `slot_templates`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "slot_templates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub district_code: Option<String>,
    pub community_id: Option<Uuid>,
    /// JSON array of `{ "start": "09:00", "end": "11:00", "capacity": 20, "van_capacity": 5 }`
    /// in Asia/Shanghai time (`van_capacity` may be missing in old rows; see
    /// [`crate::slots::templates`]).
    pub windows: String,
    pub active: bool,
    pub created_at: DateTimeUtc,
    /// JSON array of ISO weekdays (1 = Monday … 7 = Sunday) the template applies on.
    pub weekdays: String,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
