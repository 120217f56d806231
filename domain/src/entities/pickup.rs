//! The `pickups` table, with the states a pickup can be in. What the states mean and how a
//! pickup moves between them is `pickups::status`.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A pickup's state.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Booked; waiting for a recycler.
    #[sea_orm(string_value = "pending_dispatch")]
    PendingDispatch,
    /// Offered to one or more recyclers.
    #[sea_orm(string_value = "offered")]
    Offered,
    /// A recycler took it.
    #[sea_orm(string_value = "accepted")]
    Accepted,
    /// The recycler is on the way.
    #[sea_orm(string_value = "en_route")]
    EnRoute,
    /// The recycler is at the door.
    #[sea_orm(string_value = "arrived")]
    Arrived,
    /// Weighed and collected; points not yet posted.
    #[sea_orm(string_value = "completed")]
    Completed,
    /// Points and earnings posted.
    #[sea_orm(string_value = "settled")]
    Settled,
    /// Cancelled by the resident (or an administrator).
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
    /// Nobody answered the door.
    #[sea_orm(string_value = "no_show")]
    NoShow,
    /// The slot passed without a recycler.
    #[sea_orm(string_value = "expired")]
    Expired,
}

/// Where a resident's dispute of the weigh ticket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum DisputeState {
    /// Waiting for an administrator; the points do not post meanwhile.
    #[sea_orm(string_value = "open")]
    Open,
    /// The weights were corrected.
    #[sea_orm(string_value = "upheld")]
    Upheld,
    /// The weights stand.
    #[sea_orm(string_value = "rejected")]
    Rejected,
}

impl DisputeState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DisputeState::Open => "open",
            DisputeState::Upheld => "upheld",
            DisputeState::Rejected => "rejected",
        }
    }
}

/// One row of `pickups`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "pickups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub resident_id: Uuid,
    pub address_id: Uuid,
    pub address_snapshot: String,
    pub district_code: String,
    pub community_id: Option<Uuid>,
    pub lat: f64,
    pub lng: f64,
    pub slot_id: Uuid,
    pub status: Status,
    pub recycler_id: Option<Uuid>,
    pub needs_van: bool,
    pub note: String,
    pub photo_ids: String,
    pub completion_photo_ids: String,
    pub manual_dispatch: bool,
    pub dispatch_round: i32,
    pub late_cancellation: bool,
    pub rating: Option<i16>,
    pub rating_comment: Option<String>,
    pub complaint: Option<String>,
    pub dispute: Option<String>,
    pub dispute_state: Option<DisputeState>,
    pub completed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// The slot (dispatch reads a pickup and its slot's times together); other queries join
/// explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The slot the pickup is booked into.
    #[sea_orm(
        belongs_to = "super::pickup_slot::Entity",
        from = "Column::SlotId",
        to = "super::pickup_slot::Column::Id"
    )]
    Slot,
}

impl Related<super::pickup_slot::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Slot.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
