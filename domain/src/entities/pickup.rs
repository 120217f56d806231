//! The `pickups` table.

use sea_orm::entity::prelude::*;

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
    pub status: String,
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
    pub dispute_state: Option<String>,
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
