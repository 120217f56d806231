//! What a booking writes that does not depend on the rows it names ([`Draft`]), the
//! booking as it travels to its statement ([`Request`]), and the answer built from what
//! was written rather than read back.

use std::sync::Arc;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use uuid::Uuid;

use super::{
    ahead::{Ahead, FirstRound},
    checks::Checked,
    input::{BookingInput, ItemInput},
};
use crate::{
    auth::Principal,
    entities::{category, outbox, pickup, pickup_event, pickup_item},
    error::{Error, Result},
    pickups::{
        addresses::AddressView,
        retry::{FirstTry, log_waiting, try_payload},
        round::Offered,
        rules::Rules,
        status::Status,
        timeline::Actor,
        topics::DISPATCH,
        views::{EventView, ItemView, PickupView, uuids},
    },
};

/// How long a booking's dispatch job waits in the outbox for the booking process to
/// claim it (and dispatch inline) before any relay hands it to the queue.
pub const INLINE_DISPATCH_GRACE: Duration = Duration::seconds(2);

/// A booking just committed: what the resident is answered, and the id of the dispatch
/// job it staged (see `dispatch::Dispatcher::dispatch_booked`).
#[derive(Debug, Clone)]
pub struct Booked {
    /// The pickup as booked.
    pub view: PickupView,
    /// The outbox row of its `pickup.dispatch` job.
    pub dispatch_job: Uuid,
    /// When that job runs, if it was written as the pickup's next try (nobody was on
    /// shift): no round is made after the commit. `None`: a round is due at once.
    pub waits_until: Option<DateTime<Utc>>,
    /// The pickup's row as written.
    pub pickup: pickup::Model,
    /// When its slot starts.
    pub slot_starts_at: DateTime<Utc>,
    /// The offers of the first round, when the booking wrote it itself (see
    /// [`FirstRound`]): to push now. Its dispatch job was not written.
    pub offered: Option<Offered>,
}

/// A booking on its way to being written, with everything its statement (or transaction)
/// needs, owned, so that it can wait in its slot's queue.
#[derive(Clone)]
pub(crate) struct Request {
    pub(super) who: Principal,
    pub(super) rules: Rules,
    pub(super) first: FirstTry,
    pub(super) first_round: Option<Arc<FirstRound>>,
    pub(super) input: BookingInput,
    pub(super) draft: Draft,
    pub(super) item_ids: Vec<Uuid>,
}

impl Request {
    /// The booking `input` by `who`, on PostgreSQL when `pg`. Refuses a note longer than
    /// 200 characters.
    pub(super) fn new(
        pg: bool,
        who: &Principal,
        rules: Rules,
        first: FirstTry,
        ahead: Option<Ahead>,
        input: BookingInput,
    ) -> Result<Self> {
        let note = input.note.clone().unwrap_or_default();
        if note.chars().count() > 200 {
            return Err(Error::field("note", "too_long", "at most 200 characters"));
        }
        // What the database will hand back when the row is read: PostgreSQL keeps
        // microseconds.
        let now = if pg {
            Utc::now().trunc_subsecs(6)
        } else {
            Utc::now()
        };
        let draft = Draft::new(who, now, note, &input.photo_ids);
        let item_ids: Vec<Uuid> = input.items.iter().map(|_| Uuid::now_v7()).collect();
        let first_round = ahead
            .filter(|_| pg)
            .map(|a| Arc::new(a.first_round(draft.id, now)));
        Ok(Self {
            who: who.clone(),
            rules,
            first,
            first_round,
            input,
            draft,
            item_ids,
        })
    }

    /// When its dispatch job first runs, if it waits ([`FirstTry::waits_until`]), for the
    /// slot it was checked against.
    pub(super) fn waits_until(&self, checked: &Checked) -> Option<DateTime<Utc>> {
        self.first
            .waits_until(checked.slot.starts_at, self.draft.now)
    }

    /// What the resident is answered once the booking is written, as `checked` (with its
    /// first round when `with_round`).
    pub(super) fn answer(self, checked: Checked, with_round: bool) -> Result<Booked> {
        let d = &self.draft;
        let mut row = d.pickup(&self.who, &checked);
        // The round the statement wrote: (reason, offers to push).
        let offered: Option<(String, Offered)> = self
            .first_round
            .as_deref()
            .filter(|_| with_round)
            .and_then(|r| r.round(checked.needs_van))
            .map(|r| (r.reason.clone(), r.offered(d.id)));
        let waits_until = self.waits_until(&checked);
        if let Some(at) = waits_until {
            log_waiting(&row, at);
        }
        let mut timeline = vec![EventView {
            from: None,
            to: d.event.to_status.as_str().into(),
            actor_role: d.event.actor_role.as_str().into(),
            actor_id: d.event.actor_id,
            reason: d.event.reason.clone(),
            at: d.now,
        }];
        if let Some((reason, o)) = &offered {
            row.status = Status::Offered;
            row.dispatch_round = 1;
            timeline.push(EventView {
                from: Some(Status::PendingDispatch.as_str().into()),
                to: Status::Offered.as_str().into(),
                actor_role: Actor::SYSTEM.role.as_str().into(),
                actor_id: Actor::SYSTEM.user_id,
                reason: reason.clone(),
                at: d.now,
            });
            tracing::info!(pickup_id = %d.id, round = 1, offered = o.offers.len(), "pickup offered with its booking");
        }
        let view = self.view(&row, &checked, timeline)?;
        Ok(Booked {
            view,
            dispatch_job: d.job.id,
            waits_until,
            pickup: row,
            slot_starts_at: checked.slot.starts_at,
            offered: offered.map(|(_, o)| o),
        })
    }

    /// The pickup as the resident sees it, from its row as written.
    fn view(
        &self,
        row: &pickup::Model,
        checked: &Checked,
        timeline: Vec<EventView>,
    ) -> Result<PickupView> {
        let d = &self.draft;
        Ok(PickupView {
            id: d.id,
            status: row.status,
            resident_id: self.who.user_id,
            address: serde_json::from_str(&row.address_snapshot).unwrap_or(serde_json::Value::Null),
            district_code: checked.addr.district_code.clone(),
            slot_id: checked.slot.id,
            slot_starts_at: Some(checked.slot.starts_at),
            slot_ends_at: Some(checked.slot.ends_at),
            needs_van: checked.needs_van,
            note: d.note.clone(),
            photo_ids: uuids(&d.photo_ids),
            completion_photo_ids: Vec::new(),
            items: item_views(&self.input.items, &checked.cats),
            recycler: None,
            manual_dispatch: false,
            late_cancellation: false,
            rating: None,
            dispute_state: None,
            completed_at: None,
            timeline,
            created_at: d.now,
        })
    }
}

/// The items booked, in the order `view` reads them back (by category).
fn item_views(items: &[ItemInput], cats: &[category::Model]) -> Vec<ItemView> {
    let mut ordered: Vec<&ItemInput> = items.iter().collect();
    ordered.sort_by_key(|i| i.category_id);
    ordered
        .into_iter()
        .map(|i| {
            let c = cats.iter().find(|c| c.id == i.category_id);
            ItemView {
                category_id: i.category_id,
                category_code: c.map(|c| c.code.clone()).unwrap_or_default(),
                category_name: c.map(|c| c.name.clone()).unwrap_or_default(),
                unit: c.map(|c| c.unit.as_str().into()).unwrap_or_default(),
                estimated_weight_g: i.estimated_weight_g,
                estimated_count: i.estimated_count,
                actual_weight_g: None,
                actual_count: None,
            }
        })
        .collect()
}

/// What a booking writes that does not depend on the rows it names: the pickup's id and
/// time, its note and photos, its timeline row and its dispatch job (as a job due at
/// once; see [`Draft::job`]).
#[derive(Clone)]
pub(crate) struct Draft {
    pub(super) id: Uuid,
    pub(super) now: DateTime<Utc>,
    pub(super) note: String,
    pub(super) photo_ids: String,
    pub(super) event: pickup_event::Model,
    pub(super) job: outbox::Model,
}

impl Draft {
    /// A booking by `who` at `now`, with its note and photos.
    fn new(who: &Principal, now: DateTime<Utc>, note: String, photo_ids: &[Uuid]) -> Self {
        let actor = Actor::of(who);
        let id = Uuid::now_v7();
        Draft {
            id,
            now,
            note,
            photo_ids: serde_json::to_string(photo_ids).unwrap_or_else(|_| "[]".into()),
            event: pickup_event::Model {
                id: Uuid::now_v7(),
                pickup_id: id,
                from_status: None,
                to_status: Status::PendingDispatch,
                actor_id: actor.user_id,
                actor_role: actor.role,
                reason: "booked".into(),
                created_at: now,
            },
            job: outbox::Model {
                id: Uuid::now_v7(),
                topic: DISPATCH.into(),
                payload: serde_json::json!({ "pickup_id": id }).to_string(),
                // The booking process dispatches the pickup itself right after the commit
                // (see `dispatch::Dispatcher::after_commit`); the queue does it only if that
                // has not claimed the job within the grace.
                run_at: now + INLINE_DISPATCH_GRACE,
                created_at: now,
                relayed_at: None,
                relayed_epoch: None,
            },
        }
    }

    /// The pickup's row, given what the booking was checked against.
    pub(super) fn pickup(&self, who: &Principal, c: &Checked) -> pickup::Model {
        pickup::Model {
            id: self.id,
            resident_id: who.user_id,
            address_id: c.addr.id,
            address_snapshot: serde_json::to_string(&AddressView::from(c.addr.clone()))
                .unwrap_or_default(),
            district_code: c.addr.district_code.clone(),
            community_id: c.addr.community_id,
            lat: c.addr.lat,
            lng: c.addr.lng,
            slot_id: c.slot.id,
            status: Status::PendingDispatch,
            recycler_id: None,
            needs_van: c.needs_van,
            note: self.note.clone(),
            photo_ids: self.photo_ids.clone(),
            completion_photo_ids: "[]".into(),
            manual_dispatch: false,
            dispatch_round: 0,
            late_cancellation: false,
            rating: None,
            rating_comment: None,
            complaint: None,
            dispute: None,
            dispute_state: None,
            completed_at: None,
            created_at: self.now,
            updated_at: self.now,
        }
    }

    /// The dispatch job, or, when it `waits` ([`FirstTry::waits_until`]), the pickup's
    /// next try at that time, after round 0 in slot `slot_id`.
    pub(super) fn job(&self, slot_id: Uuid, waits: Option<DateTime<Utc>>) -> outbox::Model {
        let mut job = self.job.clone();
        if let Some(at) = waits {
            job.run_at = at;
            job.payload = try_payload(self.id, 0, slot_id).to_string();
        }
        job
    }

    /// The pickup's item rows, `ids[n]` for `input.items[n]`.
    pub(super) fn items<'a>(
        &'a self,
        input: &'a BookingInput,
        ids: &'a [Uuid],
    ) -> impl Iterator<Item = pickup_item::Model> + 'a {
        input
            .items
            .iter()
            .zip(ids)
            .map(|(item, &id)| pickup_item::Model {
                id,
                pickup_id: self.id,
                category_id: item.category_id,
                estimated_weight_g: item.estimated_weight_g,
                estimated_count: item.estimated_count,
                actual_weight_g: None,
                actual_count: None,
            })
    }
}
