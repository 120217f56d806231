//! The `offers` table: a pickup offered to one recycler, with where the offer stands.

use sea_orm::entity::prelude::*;

/// Where an offer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Status {
    /// Waiting for the recycler's answer.
    #[sea_orm(string_value = "open")]
    Open,
    /// The recycler took the pickup.
    #[sea_orm(string_value = "accepted")]
    Accepted,
    /// The recycler declined.
    #[sea_orm(string_value = "rejected")]
    Rejected,
    /// Nobody answered in time.
    #[sea_orm(string_value = "expired")]
    Expired,
    /// Someone else took the pickup, or it ended.
    #[sea_orm(string_value = "withdrawn")]
    Withdrawn,
}

impl Status {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Accepted => "accepted",
            Status::Rejected => "rejected",
            Status::Expired => "expired",
            Status::Withdrawn => "withdrawn",
        }
    }
}

/// One row of `offers`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "offers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub pickup_id: Uuid,
    pub recycler_id: Uuid,
    pub round: i32,
    pub status: Status,
    pub reason: Option<String>,
    pub expires_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub responded_at: Option<DateTimeUtc>,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
