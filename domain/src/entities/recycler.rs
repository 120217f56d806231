//! The `recyclers` table, with the typed values of its `vehicle` and `status` columns.

use sea_orm::entity::prelude::*;

/// What a recycler drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Vehicle {
    /// A tricycle: no bulky items.
    #[sea_orm(string_value = "tricycle")]
    Tricycle,
    /// A van: takes the pickups that need one.
    #[sea_orm(string_value = "van")]
    Van,
}

impl Vehicle {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Vehicle::Tricycle => "tricycle",
            Vehicle::Van => "van",
        }
    }

    /// The vehicle stored as `name`, if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "tricycle" => Some(Vehicle::Tricycle),
            "van" => Some(Vehicle::Van),
            _ => None,
        }
    }
}

/// Where a recycler's application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Status {
    /// Applied; waiting for an administrator.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Approved: may go on shift and take pickups.
    #[sea_orm(string_value = "approved")]
    Approved,
    /// Rejected (the reason is kept); the applicant may apply again.
    #[sea_orm(string_value = "rejected")]
    Rejected,
    /// No longer takes pickups (the reason is kept).
    #[sea_orm(string_value = "suspended")]
    Suspended,
}

impl Status {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Suspended => "suspended",
        }
    }

    /// The status stored as `name`, if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "pending" => Some(Status::Pending),
            "approved" => Some(Status::Approved),
            "rejected" => Some(Status::Rejected),
            "suspended" => Some(Status::Suspended),
            _ => None,
        }
    }
}

/// One row of `recyclers`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "recyclers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    pub name: String,
    pub phone: String,
    pub id_photo_id: Option<Uuid>,
    pub vehicle: Vehicle,
    pub status: Status,
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
