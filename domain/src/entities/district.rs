//! The `districts` table.

use sea_orm::entity::prelude::*;

/// How a district's pickups are dispatched.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum DispatchMode {
    /// One recycler at a time.
    #[sea_orm(string_value = "assign")]
    Assign,
    /// The top K at once; the first to accept wins.
    #[sea_orm(string_value = "broadcast")]
    Broadcast,
}

impl DispatchMode {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DispatchMode::Assign => "assign",
            DispatchMode::Broadcast => "broadcast",
        }
    }

    /// The mode stored as `name`, if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "assign" => Some(DispatchMode::Assign),
            "broadcast" => Some(DispatchMode::Broadcast),
            _ => None,
        }
    }
}

/// One row of `districts`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "districts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name: String,
    pub kind: String,
    pub note: String,
    pub sort_order: i32,
    pub dispatch_mode: DispatchMode,
    pub served: bool,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
