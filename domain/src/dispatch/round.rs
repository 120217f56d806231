//! What one dispatch round does for a pending pickup: send it to manual dispatch (its slot
//! is near, or its rounds are used up), offer it among the recyclers nearby, or, when
//! nobody can take it yet, schedule its next try. Deciding only: the database paths
//! ([`super::postgres`], [`super::sqlite`]) write what is decided.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde::Deserialize;
use uuid::Uuid;

use super::{
    Dispatcher,
    candidates::Shortlist,
    policy::{next_try, slot_is_near},
    rank,
};
use crate::{
    entities::pickup,
    error::Result,
    jobs::outbox,
    pickups::{
        Status,
        retry::{log_waiting, try_payload},
        round::{Choice, Round},
        topics::DISPATCH,
    },
    ports::geo::{Nearby, Position},
};

/// What a dispatch round does, decided by [`Dispatcher::plan`].
pub(super) enum Plan {
    /// Manual dispatch, for this reason.
    Escalate(&'static str),
    /// Offers, among these recyclers nearby (still to be filtered and ranked).
    Offer(Vec<Nearby>),
    /// Nobody is nearby, and the slot is not near yet: wait.
    Wait,
}

/// What a round does when nobody can take the pickup yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum IfNobody {
    /// Schedule the next try: this round carries the pickup's dispatch (the booking's, or
    /// that of the queued `pickup.dispatch` job named here). A queued job's try gets an id
    /// derived from the job's ([`next_try_id`]), so that a second delivery of the job (a
    /// worker died before acknowledging it) stages no second try.
    Retry(Option<Uuid>),
    /// Nothing: the pickup's next try is already scheduled (a recycler coming on shift
    /// nudged it).
    Leave,
}

#[derive(Deserialize)]
pub(super) struct PickupJob {
    pub(super) pickup_id: Uuid,
    #[serde(default)]
    pub(super) round: Option<i32>,
    #[serde(default)]
    slot_id: Option<Uuid>,
}

impl PickupJob {
    /// The round a scheduled try follows, if this job is one.
    pub(super) fn after(&self) -> Option<After> {
        self.round.map(|round| After {
            round,
            slot_id: self.slot_id,
        })
    }
}

/// The round a scheduled try of a pickup follows: the pickup's round and slot when the
/// round that found nobody read it.
#[derive(Debug, Clone, Copy)]
pub(super) struct After {
    round: i32,
    slot_id: Option<Uuid>,
}

impl Dispatcher {
    /// What a round for `p` (pending, not in manual dispatch) does: manual dispatch when
    /// its slot is near or its rounds are used up, else offers among the recyclers nearby,
    /// or waits when there are none. `known` is a geo lookup already made for `p`.
    pub(super) async fn plan(
        &self,
        p: &pickup::Model,
        slot_starts_at: chrono::DateTime<Utc>,
        known: Option<Vec<Nearby>>,
    ) -> Result<Plan> {
        if slot_is_near(&self.policy, slot_starts_at, Utc::now()) {
            return Ok(Plan::Escalate(
                "the slot is near and no recycler has the pickup",
            ));
        }
        if p.dispatch_round + 1 > self.policy.max_rounds {
            return Ok(Plan::Escalate("no recycler accepted in time"));
        }
        let nearby = match known {
            Some(n) => n,
            None => {
                self.search(Position {
                    lat: p.lat,
                    lng: p.lng,
                })
                .await?
            }
        };
        Ok(if nearby.is_empty() {
            Plan::Wait
        } else {
            Plan::Offer(nearby)
        })
    }

    /// When a pickup nobody can take yet is tried again ([`next_try`], from now).
    pub(super) fn retry_at(&self, slot_starts_at: DateTime<Utc>) -> DateTime<Utc> {
        next_try(&self.policy, slot_starts_at, Utc::now())
    }

    /// Stages pending pickup `p`'s next try, in `conn`'s transaction, if this round
    /// carries its dispatch (see [`IfNobody`]). On SQLite this is the whole of a round
    /// that finds nobody.
    pub(super) async fn stage_next_try(
        &self,
        conn: &impl ConnectionTrait,
        p: &pickup::Model,
        slot_starts_at: DateTime<Utc>,
        if_nobody: IfNobody,
    ) -> Result<()> {
        let IfNobody::Retry(job) = if_nobody else {
            return Ok(());
        };
        let at = self.retry_at(slot_starts_at);
        let payload = retry_payload(p);
        match job {
            Some(job) => {
                outbox::stage_once(conn, next_try_id(job), DISPATCH, payload, Some(at)).await?;
            }
            None => {
                outbox::stage(conn, DISPATCH, payload, Some(at)).await?;
            }
        }
        log_waiting(p, at);
        Ok(())
    }

    /// The offers of round `number` of pickup `pickup_id` among `shortlist`, made at
    /// `now`: the best candidate (assign) or the best K (broadcast), with the jobs that go
    /// with them.
    pub(super) fn round(
        &self,
        pickup_id: Uuid,
        number: i32,
        shortlist: Shortlist,
        now: DateTime<Utc>,
    ) -> Round {
        self.choose(shortlist).round(pickup_id, number, now)
    }

    /// Whom a round offers a pickup to among `shortlist`: the best candidate (assign) or
    /// the best K (broadcast).
    pub(super) fn choose(&self, shortlist: Shortlist) -> Choice {
        let k = if shortlist.mode == "broadcast" {
            self.policy.broadcast_top_k
        } else {
            1
        };
        Choice {
            recyclers: rank(shortlist.candidates)
                .into_iter()
                .take(k)
                .map(|c| c.recycler_id)
                .collect(),
            mode: shortlist.mode,
            offer_window: chrono::Duration::from_std(self.policy.offer_window).unwrap_or_default(),
            stage_push: self.pubsub.is_none(),
        }
    }
}

/// The id of the try a queued `pickup.dispatch` job `job` stages when it finds nobody: the
/// job's id plus one, so every delivery of that job stages the same row (and the outbox's
/// primary key keeps one). A chain of tries is a run of consecutive ids.
pub(super) fn next_try_id(job: Uuid) -> Uuid {
    Uuid::from_u128(job.as_u128().wrapping_add(1))
}

/// Whether pickup `p` needs a dispatch round: it is pending and not in manual dispatch,
/// and, for a scheduled try, still in the round and slot that try follows.
pub(super) fn due(p: &pickup::Model, after: Option<After>) -> bool {
    p.status == Status::PendingDispatch
        && !p.manual_dispatch
        && after
            .is_none_or(|a| a.round == p.dispatch_round && a.slot_id.is_none_or(|s| s == p.slot_id))
}

/// The `pickup.dispatch` job that tries pickup `p` again: it names the round and slot it
/// follows, so that it does nothing once the pickup has had another round or been
/// rescheduled (each round that finds nobody schedules its own next try, and a
/// rescheduled pickup starts a new chain).
pub(super) fn retry_payload(p: &pickup::Model) -> serde_json::Value {
    try_payload(p.id, p.dispatch_round, p.slot_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::fixtures::waiting;

    #[test]
    fn a_scheduled_try_runs_only_in_the_round_and_slot_it_follows() {
        let slot = Uuid::now_v7();
        let p = waiting(1, slot);
        let try_of = |round, slot_id| {
            Some(After {
                round,
                slot_id: Some(slot_id),
            })
        };
        assert!(due(&p, None), "a plain dispatch job");
        assert!(due(&p, try_of(1, slot)));
        assert!(
            !due(&p, try_of(0, slot)),
            "the pickup has had a round since"
        );
        assert!(!due(&p, try_of(1, Uuid::now_v7())), "it was rescheduled");
        // A try staged before tries named their slot.
        assert!(due(
            &p,
            Some(After {
                round: 1,
                slot_id: None
            })
        ));
        let manual = pickup::Model {
            manual_dispatch: true,
            ..p.clone()
        };
        assert!(!due(&manual, None));
        let offered = pickup::Model {
            status: Status::Offered,
            ..p
        };
        assert!(!due(&offered, try_of(1, slot)));
    }
}
