//! What a resident sends to book a pickup.

use serde::Deserialize;
use uuid::Uuid;

/// One item to collect.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    /// Category id.
    pub category_id: Uuid,
    /// Estimated weight in grams (categories sold by the kg).
    pub estimated_weight_g: Option<i32>,
    /// Estimated count (categories sold by the piece).
    pub estimated_count: Option<i32>,
}

/// A booking.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingInput {
    /// One of the caller's addresses.
    pub address_id: Uuid,
    /// A slot from `GET /v1/pickup-slots` for that address.
    pub slot_id: Uuid,
    /// What to collect, one entry per category.
    pub items: Vec<ItemInput>,
    /// The caller's uploads (purpose `pickup_photo`) showing the items.
    #[serde(default)]
    pub photo_ids: Vec<Uuid>,
    /// Note to the recycler (floor, where to knock …), up to 200 characters.
    #[serde(default)]
    pub note: Option<String>,
}
