//! A pickup's tries: whether a dispatch job or a scheduled try still has work to do
//! ([`due`]), what a round that finds nobody does ([`IfNobody`]), and the payload and id
//! of the next try it schedules.

use uuid::Uuid;

use crate::{
    entities::pickup,
    pickups::{Status, retry::try_payload},
};

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

/// The round a scheduled try of a pickup follows: the pickup's round and slot when the
/// round that found nobody read it.
#[derive(Debug, Clone, Copy)]
pub(super) struct After {
    pub(super) round: i32,
    pub(super) slot_id: Option<Uuid>,
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
