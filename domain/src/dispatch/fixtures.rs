//! What the dispatcher's unit tests build on.

use chrono::Utc;
use uuid::Uuid;

use super::ranking::Candidate;
use crate::{entities::pickup, pickups::Status};

pub(super) fn c(distance_m: f64, load: i32, rating: Option<f64>, offers_today: u64) -> Candidate {
    Candidate {
        recycler_id: Uuid::new_v4(),
        distance_m,
        load,
        capacity: 4,
        rating,
        complaints: 0,
        offers_today,
    }
}

pub(super) fn waiting(round: i32, slot_id: Uuid) -> pickup::Model {
    let now = Utc::now();
    pickup::Model {
        id: Uuid::now_v7(),
        resident_id: Uuid::now_v7(),
        address_id: Uuid::now_v7(),
        address_snapshot: "{}".into(),
        district_code: "371502".into(),
        community_id: None,
        lat: 36.456,
        lng: 115.985,
        slot_id,
        status: Status::PendingDispatch,
        recycler_id: None,
        needs_van: false,
        note: String::new(),
        photo_ids: "[]".into(),
        completion_photo_ids: "[]".into(),
        manual_dispatch: false,
        dispatch_round: round,
        late_cancellation: false,
        rating: None,
        rating_comment: None,
        complaint: None,
        dispute: None,
        dispute_state: None,
        completed_at: None,
        created_at: now,
        updated_at: now,
    }
}
