//! What one dispatch round does for a pending pickup: send it to manual dispatch (its slot
//! is near, or its rounds are used up), offer it among the recyclers nearby, or, when
//! nobody can take it yet, schedule its next try. Deciding only: the database paths
//! ([`super::postgres`], [`super::sqlite`]) write what is decided.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{
    candidates::Shortlist,
    dispatcher::Dispatcher,
    policy::{next_try, slot_is_near},
    ranking::rank,
    tries::{IfNobody, next_try_id, retry_payload},
};
use crate::{
    entities::{district::DispatchMode, pickup},
    error::Result,
    jobs::outbox,
    pickups::{
        retry::log_waiting,
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
        let k = if shortlist.mode == DispatchMode::Broadcast {
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
