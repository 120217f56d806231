//! The dispatch policy, from the settings: how long offers stay open, how many recyclers
//! a broadcast round asks, how many rounds before manual dispatch, how far and how fresh a
//! recycler may be, and when a waiting pickup is tried again.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::{config::Settings, pickups::retry::Retry};

/// Dispatch parameters, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// How long an offer stays open.
    pub offer_window: Duration,
    /// Recyclers offered at once in broadcast districts.
    pub broadcast_top_k: usize,
    /// Rounds before manual dispatch (assign: one offer per round).
    pub max_rounds: i32,
    /// Farthest recycler considered.
    pub radius_m: f64,
    /// Oldest position considered.
    pub fresh_within: Duration,
    /// Manual dispatch when the slot starts within this.
    pub manual_before: Duration,
    /// A pickup nobody can take yet is dispatched again after this (or when its slot is
    /// near, if sooner).
    pub retry_every: Duration,
}

impl Policy {
    /// From the settings.
    pub fn from_settings(s: &Settings) -> Self {
        Self {
            offer_window: Duration::from_secs(u64::from(s.offer_window_secs)),
            broadcast_top_k: s.broadcast_top_k as usize,
            max_rounds: i32::try_from(s.dispatch_max_offers).unwrap_or(3),
            radius_m: f64::from(s.dispatch_radius_m),
            fresh_within: Duration::from_secs(u64::from(s.location_fresh_secs)),
            manual_before: Duration::from_secs(60 * u64::from(s.manual_dispatch_before_minutes)),
            retry_every: Duration::from_secs(u64::from(s.dispatch_retry_secs)),
        }
    }

    /// [`Self::manual_before`] as a time delta.
    pub fn manual_before_delta(&self) -> chrono::Duration {
        self.retry().manual_before_delta()
    }

    /// When a pickup nobody can take yet is tried again, as the plain data booking and
    /// rounds schedule tries with.
    pub fn retry(&self) -> Retry {
        Retry {
            manual_before: self.manual_before,
            retry_every: self.retry_every,
        }
    }
}

/// When a pickup nobody can take at `now` is tried again: after the retry interval, or when
/// its slot becomes near (that round sends it to manual dispatch), whichever is sooner.
pub(super) fn next_try(
    policy: &Policy,
    slot_starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    policy.retry().next_try(slot_starts_at, now)
}

/// Whether a slot starting at `slot_starts_at` is near at `now`: a round then sends a
/// pickup nobody has to manual dispatch.
pub(super) fn slot_is_near(
    policy: &Policy,
    slot_starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    policy.retry().slot_is_near(slot_starts_at, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pickups::retry::FirstTry;

    fn policy() -> Policy {
        Policy::from_settings(&Settings::default())
    }

    #[test]
    fn a_waiting_pickup_is_tried_every_interval_until_its_slot_is_near() {
        let now = Utc::now();
        let p = policy();
        let (every, near) = (chrono::Duration::minutes(10), chrono::Duration::minutes(30));
        // A slot tomorrow: the interval.
        let tomorrow = now + chrono::Duration::hours(20);
        assert_eq!(next_try(&p, tomorrow, now), now + every);
        // A slot 35 minutes off: when manual dispatch is due, 5 minutes from now.
        let soon = now + chrono::Duration::minutes(35);
        assert_eq!(next_try(&p, soon, now), soon - near);
    }

    #[test]
    fn a_booking_made_with_nobody_on_shift_waits_unless_its_slot_is_near() {
        let now = Utc::now();
        let p = policy();
        let near = chrono::Duration::minutes(30);
        let tomorrow = now + chrono::Duration::hours(20);
        let wait = FirstTry::Wait(p.retry());
        assert_eq!(
            wait.waits_until(tomorrow, now),
            Some(now + chrono::Duration::minutes(10))
        );
        // Not near yet: its first try is when it becomes near.
        let soon = now + chrono::Duration::minutes(35);
        assert_eq!(wait.waits_until(soon, now), Some(soon - near));
        // Near (to the microsecond): a round now sends it to manual dispatch.
        assert_eq!(wait.waits_until(now + near, now), None);
        assert_eq!(
            wait.waits_until(now + near + chrono::Duration::microseconds(1), now),
            Some(now + chrono::Duration::microseconds(1))
        );
        // Somebody is on shift: at once, whatever the slot.
        assert_eq!(FirstTry::AtOnce.waits_until(tomorrow, now), None);
    }
}
