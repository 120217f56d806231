//! A batch of bookings as the JSON rows `batch.sql` reads ([`BatchRecord`]), and the cut
//! of a batch into statements small enough to travel in one TLS record.

use std::collections::HashSet;

use uuid::Uuid;

use super::{ahead::FirstRound, draft::Request};
use crate::{
    jobs::outbox,
    pickups::{
        retry::{FirstTry, try_payload},
        status::Status,
        timeline::Actor,
    },
};

/// The most bytes of JSON one batch statement carries. The statement's values travel in
/// one message; over TLS a message larger than a TLS record (16 KiB) is written in two
/// parts, and the driver's socket (no `TCP_NODELAY`) then holds the second part until the
/// first is acknowledged, which the server delays by 40 ms: measured, batches of 17
/// bookings took 47 ms where 16 took 4. So a batch stays well under one record.
pub(super) const BATCH_BYTES: usize = 12 * 1024;

/// One booking of a batch as `insert_batch`'s JSON rows: the booking, its items, its
/// photos and its first rounds ([`FirstRound`]: one if it needs no van, one if it does),
/// each tagged with `k`, the booking's place in the batch.
pub(super) struct BatchRecord {
    pub(super) booking: String,
    pub(super) items: Vec<String>,
    pub(super) photos: Vec<String>,
    pub(super) rounds: Vec<String>,
    bytes: usize,
}

impl BatchRecord {
    /// Booking `p`, `k`th of its batch.
    pub(super) fn of(k: usize, p: &Request) -> Self {
        let photo_ids: HashSet<&Uuid> = p.input.photo_ids.iter().collect();
        let booking = booking_row(k, p, photo_ids.len());
        let items: Vec<_> = p
            .input
            .items
            .iter()
            .zip(&p.item_ids)
            .map(|(i, &id)| {
                serde_json::json!({
                    "k": k, "item_id": id, "category_id": i.category_id,
                    "weight": i.estimated_weight_g, "count": i.estimated_count,
                })
            })
            .collect();
        let photos: Vec<_> = photo_ids
            .into_iter()
            .map(|id| serde_json::json!({ "k": k, "upload_id": id }))
            .collect();
        let rounds: Vec<_> = p
            .first_round
            .as_deref()
            .map(|f| first_round_rows(k, f))
            .unwrap_or_default();
        // Serialised once: the size decides the batch, the text is what is sent.
        let text = |v: &serde_json::Value| v.to_string();
        let (booking, items, photos, rounds) = (
            text(&booking),
            items.iter().map(text).collect::<Vec<_>>(),
            photos.iter().map(text).collect::<Vec<_>>(),
            rounds.iter().map(text).collect::<Vec<_>>(),
        );
        let bytes = std::iter::once(&booking)
            .chain(&items)
            .chain(&photos)
            .chain(&rounds)
            .map(|t| t.len() + 1)
            .sum();
        Self {
            booking,
            items,
            photos,
            rounds,
            bytes,
        }
    }
}

/// Booking `p`'s own row (`k`th of its batch, with `n_photos` distinct photos): its
/// pickup, timeline row and dispatch job, and, when the job waits, what `Draft::job`
/// makes of it, decided on the slot's start inside the statement.
fn booking_row(k: usize, p: &Request, n_photos: usize) -> serde_json::Value {
    let (d, e, j) = (&p.draft, &p.draft.event, &p.draft.job);
    let slot = p.input.slot_id;
    let wait = match p.first {
        FirstTry::AtOnce => serde_json::Value::Null,
        FirstTry::Wait(retry) => serde_json::json!({
            "payload": try_payload(d.id, 0, slot).to_string(),
            "far": d.now + retry.manual_before_delta(),
            "retry_at": d.now + retry.retry_every_delta(),
            "manual_before_secs": retry.manual_before.as_secs_f64(),
        }),
    };
    serde_json::json!({
        "k": k, "id": d.id, "user_id": p.who.user_id, "address_id": p.input.address_id,
        "note": d.note, "photo_ids": d.photo_ids, "at": d.now,
        "event_id": e.id, "from_status": e.from_status, "to_status": e.to_status,
        "actor_id": e.actor_id, "actor_role": e.actor_role.as_str(), "reason": e.reason,
        "job_id": j.id, "topic": j.topic, "payload": j.payload, "run_at": j.run_at,
        "wait_payload": wait["payload"], "far": wait["far"], "retry_at": wait["retry_at"],
        "manual_before_secs": wait["manual_before_secs"],
        "n_items": p.input.items.len(),
        "n_photos": n_photos,
    })
}

/// The JSON rows of booking `k`'s first round `f` for `insert_batch`: one for each
/// answer to whether the pickup needs a van that has a round, with where it was read for,
/// its timeline row (from pending to offered, by the system), its offers and its jobs.
fn first_round_rows(k: usize, f: &FirstRound) -> Vec<serde_json::Value> {
    [false, true]
        .into_iter()
        .filter_map(|van| f.round(van).map(|r| (van, r)))
        .map(|(van, r)| {
            let offers: Vec<_> = r
                .offers
                .iter()
                .map(|o| {
                    serde_json::json!({
                        "id": o.id, "recycler_id": o.recycler_id, "round": o.round,
                        "status": o.status.as_str(), "expires_at": o.expires_at, "created_at": o.created_at,
                    })
                })
                .collect();
            let jobs: Vec<_> = outbox::rows(r.jobs.clone())
                .into_iter()
                .map(|j| {
                    serde_json::json!({
                        "id": j.id, "topic": j.topic, "payload": j.payload,
                        "run_at": j.run_at, "created_at": j.created_at,
                    })
                })
                .collect();
            serde_json::json!({
                "k": k, "van": van, "slot_id": f.slot_id, "district_code": f.district_code,
                "lat": f.at.lat, "lng": f.at.lng, "far": f.far,
                "round": r.number, "event_id": Uuid::now_v7(),
                "from_status": Status::PendingDispatch.as_str(),
                "to_status": Status::Offered.as_str(),
                "actor_id": Actor::SYSTEM.user_id, "actor_role": Actor::SYSTEM.role.as_str(),
                "reason": r.reason, "at": r.now, "offers": offers, "jobs": jobs,
            })
        })
        .collect()
}

/// `records` in order, cut into runs of at most `budget` bytes (a record larger than that
/// alone is a run of one).
pub(super) fn chunks_within(records: &[BatchRecord], budget: usize) -> Vec<&[BatchRecord]> {
    let mut chunks = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (n, r) in records.iter().enumerate() {
        if n > start && bytes + r.bytes > budget {
            chunks.push(&records[start..n]);
            (start, bytes) = (n, 0);
        }
        bytes += r.bytes;
    }
    if start < records.len() {
        chunks.push(&records[start..]);
    }
    chunks
}
