//! A pickup nobody can take yet waits for its next try: after the retry interval, or when
//! its slot becomes near (that try sends it to manual dispatch), whichever is sooner. The
//! rule is here, as plain data ([`Retry`]) dispatch fills in from its policy, so that a
//! booking and a dispatch round schedule a try the same way.

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::entities::pickup;

/// When a waiting pickup is tried again, from the dispatch policy.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Manual dispatch when the slot starts within this.
    pub manual_before: Duration,
    /// A pickup nobody can take yet is dispatched again after this (or when its slot is
    /// near, if sooner).
    pub retry_every: Duration,
}

impl Retry {
    /// [`Self::manual_before`] as a time delta.
    pub fn manual_before_delta(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.manual_before).unwrap_or_default()
    }

    /// [`Self::retry_every`] as a time delta.
    pub fn retry_every_delta(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.retry_every).unwrap_or_default()
    }

    /// When a pickup nobody can take at `now` is tried again: after the retry interval, or
    /// when its slot becomes near, whichever is sooner.
    pub fn next_try(&self, slot_starts_at: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
        (now + self.retry_every_delta()).min(slot_starts_at - self.manual_before_delta())
    }

    /// Whether a slot starting at `slot_starts_at` is near at `now`: a round then sends a
    /// pickup nobody has to manual dispatch.
    pub fn slot_is_near(&self, slot_starts_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        slot_starts_at - self.manual_before_delta() <= now
    }
}

/// When a booking's own `pickup.dispatch` job first runs, decided before the booking is
/// written (by `dispatch::Dispatcher::first_try`).
#[derive(Debug, Clone, Copy, Default)]
pub enum FirstTry {
    /// At once: the booking process makes the first round right after its commit (the
    /// queue does, if that has not claimed the job within the booking's grace).
    #[default]
    AtOnce,
    /// Nobody at all is on shift with a fresh position, so a round now would find nobody
    /// and schedule the pickup's next try. Unless its slot is near (a round now sends it
    /// to manual dispatch), the booking writes its job as that next try and no round is
    /// made now: the same outcome, without a round's reads and writes.
    Wait(Retry),
}

impl FirstTry {
    /// When the first try of a pickup booked at `now` into a slot starting at
    /// `slot_starts_at` runs, if it waits; `None` when it runs at once.
    pub fn waits_until(
        &self,
        slot_starts_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        match self {
            FirstTry::AtOnce => None,
            FirstTry::Wait(retry) => (!retry.slot_is_near(slot_starts_at, now))
                .then(|| retry.next_try(slot_starts_at, now)),
        }
    }
}

/// The `pickup.dispatch` job that tries pickup `pickup_id` again once it has had `round`
/// rounds in slot `slot_id`: it names the round and slot it follows, so that it does
/// nothing once the pickup has had another round or been rescheduled (each round that
/// finds nobody schedules its own next try, and a rescheduled pickup starts a new chain).
pub fn try_payload(pickup_id: Uuid, round: i32, slot_id: Uuid) -> serde_json::Value {
    serde_json::json!({ "pickup_id": pickup_id, "round": round, "slot_id": slot_id })
}

/// Logs that pickup `p` waits for a recycler until its next try `at`.
pub fn log_waiting(p: &pickup::Model, at: DateTime<Utc>) {
    tracing::info!(pickup_id = %p.id, next_try = %at, "no recycler can take the pickup yet; waiting");
}
