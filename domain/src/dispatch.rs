//! Dispatch, run by the worker. A booked (or released) pickup is offered to recyclers who
//! are approved, on shift, serve its district, have the right vehicle, capacity left in the
//! slot and a fresh position in the geo index, ranked by distance, load, rating, complaints
//! and fairness across the day. Per district, `assign` offers one recycler at a time and
//! `broadcast` the top K at once (the first accept wins, see `pickups::work::accept`).
//! Unanswered offers expire through delayed jobs; after the last round, or when the slot is
//! near, the pickup waits in the manual-dispatch queue and the resident is told.
//!
//! A pickup nobody can take yet (nobody on shift nearby, or every one of them full or
//! already asked) is not sent to manual dispatch while its slot is far off: it waits, and
//! is dispatched again when a recycler serving its district comes on shift
//! ([`crate::pickups::topics::ON_SHIFT`]), every `WUFEI_DISPATCH_RETRY_SECS`, and, finally, when its slot is near
//! — then, still without a recycler, it goes to manual dispatch. A booking made at night
//! for the morning is offered when the morning shift starts, rather than landing on a
//! station manager's desk.
//!
//! On PostgreSQL a booking with someone nearby who can take it writes its pickup's first
//! round itself, in the booking's own statement ([`Dispatcher::ahead`], [`FirstRound`]):
//! the offers are committed with the booking and pushed at once.
//!
//! Every handler is idempotent: a round is written on condition that the pickup is still
//! as it was read (on PostgreSQL one statement whose conditional update guards the rest;
//! on SQLite a transaction under the pickup's lock) and does nothing when the work is
//! already done, so a job delivered twice, or re-delivered after a worker died
//! mid-dispatch, neither loses nor doubles a pickup.

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter, TransactionTrait,
    sea_query::{Expr, LockBehavior, LockType, Query},
};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    config::Settings,
    db::SqlArgs,
    entities::{address, offer, outbox as outbox_row, pickup, pickup_slot},
    error::{Error, Result},
    jobs::{JobHandler, outbox},
    pickups::{
        Actor, Status, Transition,
        booking::Ahead,
        events::push_status,
        locks::{lock_pickup, lock_pickup_with_slot},
        notices::{announce, announce_as, resident_notice, status_push},
        offers::{after_offer_closed, expire_round},
        record_event,
        retry::{FirstTry, Retry, log_waiting, try_payload},
        round::{Choice, Offered, Round},
        topics::{DISPATCH, OFFERS_MADE, STATUS_CHANGED},
        transition_locked,
    },
    ports::{
        geo::{GeoIndex, Nearby, Position},
        pubsub::PubSub,
        queue::Delivery,
    },
    realtime,
};

/// Waiting pickups one recycler's coming on shift dispatches again, soonest slot first.
const ON_SHIFT_BATCH: u64 = 100;

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

/// A recycler who could take a pickup.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Recycler id.
    pub recycler_id: Uuid,
    /// Metres from the pickup.
    pub distance_m: f64,
    /// Pickups already held in this slot.
    pub load: i32,
    /// Pickups allowed per slot.
    pub capacity: i32,
    /// Average rating (1–5), if rated.
    pub rating: Option<f64>,
    /// Complaints received.
    pub complaints: i32,
    /// Offers made to them today.
    pub offers_today: u64,
}

impl Candidate {
    /// Lower is better: a kilometre of distance is the unit; a full slot costs 2 km, each
    /// offer already made today 0.2 km (fairness), each complaint 0.3 km, and each rating
    /// star above 4 (unrated counts as 4) is worth 0.5 km.
    pub fn score(&self) -> f64 {
        let load = if self.capacity > 0 {
            f64::from(self.load) / f64::from(self.capacity)
        } else {
            1.0
        };
        self.distance_m / 1000.0
            + 2.0 * load
            + 0.2 * self.offers_today as f64
            + 0.3 * f64::from(self.complaints)
            - 0.5 * (self.rating.unwrap_or(4.0) - 4.0)
    }
}

/// Orders candidates best first; ties go to the nearer.
pub fn rank(mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    candidates.sort_by(|a, b| {
        a.score()
            .total_cmp(&b.score())
            .then(a.distance_m.total_cmp(&b.distance_m))
    });
    candidates
}

/// The dispatcher: handlers for `pickup.dispatch` and `pickup.offer_timeout`.
#[derive(Clone)]
pub struct Dispatcher {
    db: DatabaseConnection,
    geo: Arc<dyn GeoIndex>,
    policy: Policy,
    pubsub: Option<Arc<dyn PubSub>>,
}

/// What a dispatch round does, decided by [`Dispatcher::plan`].
enum Plan {
    /// Manual dispatch, for this reason.
    Escalate(&'static str),
    /// Offers, among these recyclers nearby (still to be filtered and ranked).
    Offer(Vec<Nearby>),
    /// Nobody is nearby, and the slot is not near yet: wait.
    Wait,
}

/// What a round does when nobody can take the pickup yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IfNobody {
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
struct RecyclerJob {
    recycler_id: Uuid,
}

#[derive(Deserialize)]
struct PickupJob {
    pickup_id: Uuid,
    #[serde(default)]
    round: Option<i32>,
    #[serde(default)]
    slot_id: Option<Uuid>,
}

impl PickupJob {
    /// The round a scheduled try follows, if this job is one.
    fn after(&self) -> Option<After> {
        self.round.map(|round| After {
            round,
            slot_id: self.slot_id,
        })
    }
}

/// The round a scheduled try of a pickup follows: the pickup's round and slot when the
/// round that found nobody read it.
#[derive(Debug, Clone, Copy)]
struct After {
    round: i32,
    slot_id: Option<Uuid>,
}

impl Dispatcher {
    /// A dispatcher.
    pub fn new(db: DatabaseConnection, geo: Arc<dyn GeoIndex>, policy: Policy) -> Self {
        Self {
            db,
            geo,
            policy,
            pubsub: None,
        }
    }

    /// Pushes each new offer to its recycler straight after the dispatch commits, instead
    /// of through the `pickup.offers_made` job (staged then only if a push fails).
    pub fn pushing_to(mut self, pubsub: Arc<dyn PubSub>) -> Self {
        self.pubsub = Some(pubsub);
        self
    }

    /// How the dispatch job of a booking about to be written first runs: it waits for its
    /// next try when nobody at all is on shift with a fresh position (the geo index's
    /// [`GeoIndex::any_fresh`]), else it runs at once. When the geo index cannot answer,
    /// at once: that round then finds out for itself, or the queue retries it.
    ///
    /// A recycler whose first fresh position arrives between this answer and the booking's
    /// commit is not offered this pickup until its next try, just as one whose position
    /// arrives after their shift-on nudge.
    pub async fn first_try(&self) -> FirstTry {
        if self.policy.max_rounds < 1 {
            return FirstTry::AtOnce;
        }
        match self.geo.any_fresh(self.policy.fresh_within).await {
            Ok(false) => FirstTry::Wait(self.policy.retry()),
            Ok(true) => FirstTry::AtOnce,
            Err(e) => {
                tracing::warn!(error = %e, "the geo index did not answer; a booking dispatches at once");
                FirstTry::AtOnce
            }
        }
    }

    /// Offers a pending pickup to the next recycler(s), sends it to manual dispatch, or,
    /// when nobody can take it yet and its slot is not near, schedules its next try.
    pub async fn dispatch(&self, pickup_id: Uuid) -> Result<()> {
        self.dispatch_as(pickup_id, None, IfNobody::Retry(None))
            .await
    }

    /// One round for pickup `pickup_id`, unless it is no longer pending, or (with `after`:
    /// a scheduled try) it has had another round since, or moved to another slot.
    ///
    /// On PostgreSQL the pickup is read without a lock: when it needs nothing (it is no
    /// longer pending) that read is all; otherwise [`Self::round_now`] writes the round in
    /// one conditional statement. On SQLite the round is a transaction under the pickup's
    /// lock ([`Self::dispatch_in`]).
    #[tracing::instrument(skip(self), fields(pickup_id = %pickup_id))]
    async fn dispatch_as(
        &self,
        pickup_id: Uuid,
        after: Option<After>,
        if_nobody: IfNobody,
    ) -> Result<()> {
        if self.db.get_database_backend() == DatabaseBackend::Postgres {
            let Some((p, slot)) = pickup::Entity::find_by_id(pickup_id)
                .find_also_related(pickup_slot::Entity)
                .one(&self.db)
                .await?
            else {
                return Ok(());
            };
            if !due(&p, after) {
                return Ok(());
            }
            let slot = slot
                .ok_or_else(|| Error::Internal(anyhow::anyhow!("pickup {} has no slot", p.id)))?;
            self.round_now(&p, slot.starts_at, None, if_nobody, None)
                .await?;
            return Ok(());
        }
        let txn = self.db.begin().await?;
        let offered = self.dispatch_in(&txn, pickup_id, after, if_nobody).await?;
        txn.commit().await?;
        self.push_offers(offered).await;
        Ok(())
    }

    /// Dispatches pickup `p`, just booked for a slot starting at `slot_starts_at`, right
    /// away in the process that booked it, when no relay has taken its dispatch job (outbox
    /// row `job`) yet: deleting that row in the dispatch's own write claims the job (on
    /// PostgreSQL, a round that finds nobody moves it to the next try instead), so either
    /// this call or the queued job does the work (and a second run is a no-op anyway).
    /// Returns whether it ran; `false` means the queue has the job. On an error nothing is
    /// written, the row stays in the outbox and the queue runs the job.
    ///
    /// On PostgreSQL the round, claim included, is one statement ([`Self::round_now`]).
    #[tracing::instrument(skip(self, p, slot_starts_at), fields(pickup_id = %p.id))]
    pub async fn dispatch_booked(
        &self,
        p: &pickup::Model,
        slot_starts_at: chrono::DateTime<Utc>,
        job: Uuid,
        prefetched: Option<Prefetched>,
    ) -> Result<bool> {
        if self.db.get_database_backend() == DatabaseBackend::Postgres {
            return self
                .round_now(
                    p,
                    slot_starts_at,
                    Some(job),
                    IfNobody::Retry(None),
                    prefetched,
                )
                .await;
        }
        let txn = self.db.begin().await?;
        if !claim_outbox_row(&txn, job).await? {
            return Ok(false);
        }
        let offered = self
            .dispatch_in(&txn, p.id, None, IfNobody::Retry(None))
            .await?;
        txn.commit().await?;
        self.push_offers(offered).await;
        Ok(true)
    }

    /// One round for pending pickup `p`, as read, on PostgreSQL, without a transaction:
    /// the plan and the shortlist are read unlocked, then ONE statement writes the round
    /// ([`Self::offer_now`] or [`Self::escalate_now`]) on condition that the pickup is still
    /// as read. Two rounds racing for one pickup cannot both write: the second finds the
    /// round moved on and changes nothing. With `claim`, see [`Self::escalate_now`];
    /// returns whether the claim held (always `true` without one). With `prefetched` (read
    /// while `p` was booked), neither the recyclers nearby nor the shortlist are read again
    /// when it answers for `p` ([`Prefetched::first_round`]).
    async fn round_now(
        &self,
        p: &pickup::Model,
        slot_starts_at: chrono::DateTime<Utc>,
        claim: Option<Uuid>,
        if_nobody: IfNobody,
        prefetched: Option<Prefetched>,
    ) -> Result<bool> {
        let (known, read) = prefetched.and_then(|f| f.first_round(p)).unzip();
        let nearby = match self.plan(p, slot_starts_at, known).await? {
            Plan::Escalate(why) => return self.escalate_now(p, why, claim).await,
            Plan::Wait => return self.wait_now(p, slot_starts_at, claim, if_nobody).await,
            Plan::Offer(nearby) => nearby,
        };
        let shortlist = match read {
            Some(shortlist) => shortlist,
            None => self.candidates(&self.db, p, &nearby).await?,
        };
        if shortlist.candidates.is_empty() {
            return self.wait_now(p, slot_starts_at, claim, if_nobody).await;
        }
        let round = self.round(
            p.id,
            p.dispatch_round + 1,
            shortlist,
            Utc::now().trunc_subsecs(6),
        );
        self.offer_now(p, round, claim).await
    }

    /// What a round for `p` (pending, not in manual dispatch) does: manual dispatch when
    /// its slot is near or its rounds are used up, else offers among the recyclers nearby,
    /// or waits when there are none. `known` is a geo lookup already made for `p`.
    async fn plan(
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
    fn retry_at(&self, slot_starts_at: DateTime<Utc>) -> DateTime<Utc> {
        next_try(&self.policy, slot_starts_at, Utc::now())
    }

    /// Nobody can take pending pickup `p` yet (PostgreSQL). With `claim` (the booking's own
    /// dispatch job, still in the outbox), that job becomes the next try: ONE statement
    /// moves it to [`Self::retry_at`] unless a relay holds it, which claims it as deleting
    /// it would, and is run and committed asynchronously by [`run_round`] (a lost move leaves
    /// the job due within the booking's grace, and the round is made again). Without a
    /// claim, the next try is staged when this round carries the pickup's dispatch. Returns
    /// whether the claim held (always `true` without one).
    async fn wait_now(
        &self,
        p: &pickup::Model,
        slot_starts_at: DateTime<Utc>,
        claim: Option<Uuid>,
        if_nobody: IfNobody,
    ) -> Result<bool> {
        let Some(job) = claim else {
            self.stage_next_try(&self.db, p, slot_starts_at, if_nobody)
                .await?;
            return Ok(true);
        };
        let at = self.retry_at(slot_starts_at);
        let mut a = SqlArgs::default();
        // `m` (what moved) is the claim itself: nothing else is written.
        let sql = format!(
            "WITH c AS (UPDATE outbox SET run_at = {}, payload = {} WHERE id IN (\
               SELECT id FROM outbox WHERE id = {} AND relayed_at IS NULL \
               FOR UPDATE SKIP LOCKED) RETURNING id), \
             m AS (SELECT id FROM c)",
            a.arg(at),
            a.arg(retry_payload(p).to_string()),
            a.arg(job),
        );
        let (claimed, _) = run_round(&self.db, a, sql, true).await?;
        if claimed {
            log_waiting(p, at);
        }
        Ok(claimed)
    }

    /// Stages pending pickup `p`'s next try, in `conn`'s transaction, if this round
    /// carries its dispatch (see [`IfNobody`]). On SQLite this is the whole of a round
    /// that finds nobody.
    async fn stage_next_try(
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

    /// A recycler came on shift: dispatches again the waiting pickups of the districts they
    /// serve (pending, not in manual dispatch, slot not near; at most [`ON_SHIFT_BATCH`],
    /// soonest slot first). Each round is an ordinary one, so the pickup may go to another
    /// recycler who ranks better; one that still finds nobody is left to its scheduled
    /// retry. Returns how many pickups it tried.
    #[tracing::instrument(skip(self))]
    pub async fn recycler_on_shift(&self, recycler_id: Uuid) -> Result<usize> {
        let manual_before = self.policy.manual_before_delta();
        let backend = self.db.get_database_backend();
        let mut a = SqlArgs::default();
        let sql = format!(
            "SELECT p.id FROM pickups p \
             JOIN recycler_districts d ON d.district_code = p.district_code \
               AND d.recycler_id = {} \
             JOIN pickup_slots s ON s.id = p.slot_id \
             WHERE p.status = {} AND p.manual_dispatch = {} AND s.starts_at > {} \
             ORDER BY s.starts_at, p.id LIMIT {ON_SHIFT_BATCH}",
            a.arg(recycler_id),
            a.arg(Status::PendingDispatch.as_str()),
            a.arg(false),
            a.arg(Utc::now() + manual_before),
        );
        let rows = self.db.query_all_raw(a.statement_for(backend, sql)).await?;
        let mut tried = 0;
        for row in rows {
            let id: Uuid = row.try_get("", "id")?;
            self.dispatch_as(id, None, IfNobody::Leave).await?;
            tried += 1;
        }
        Ok(tried)
    }

    /// The dispatch itself, in the caller's transaction, under the pickup's lock; returns
    /// the offers made. (SQLite's way; PostgreSQL's is [`Self::round_now`].)
    async fn dispatch_in(
        &self,
        txn: &DatabaseTransaction,
        pickup_id: Uuid,
        after: Option<After>,
        if_nobody: IfNobody,
    ) -> Result<Option<Offered>> {
        let Some((p, slot)) = lock_pickup_with_slot(txn, pickup_id).await? else {
            return Ok(None);
        };
        if !due(&p, after) {
            return Ok(None);
        }
        let slot =
            slot.ok_or_else(|| Error::Internal(anyhow::anyhow!("pickup {} has no slot", p.id)))?;
        let nearby = match self.plan(&p, slot.starts_at, None).await? {
            Plan::Escalate(why) => {
                escalate(txn, &p, why).await?;
                return Ok(None);
            }
            Plan::Wait => {
                self.stage_next_try(txn, &p, slot.starts_at, if_nobody)
                    .await?;
                return Ok(None);
            }
            Plan::Offer(nearby) => nearby,
        };
        let shortlist = self.candidates(txn, &p, &nearby).await?;
        if shortlist.candidates.is_empty() {
            self.stage_next_try(txn, &p, slot.starts_at, if_nobody)
                .await?;
            return Ok(None);
        }
        let mut round = self.round(p.id, p.dispatch_round + 1, shortlist, Utc::now());
        offer::Entity::insert_many(
            round
                .offers
                .iter()
                .map(|o| o.clone().into_active_model().reset_all()),
        )
        .exec_without_returning(txn)
        .await?;
        transition_locked(
            txn,
            &p,
            Transition {
                pickup_id: p.id,
                from: &[Status::PendingDispatch],
                to: Status::Offered,
                actor: Actor::SYSTEM,
                reason: round.reason.clone(),
                recycler: None,
                set: vec![(pickup::Column::DispatchRound, Expr::value(round.number))],
            },
        )
        .await?;
        outbox::stage_all(txn, std::mem::take(&mut round.jobs)).await?;
        tracing::info!(
            round = round.number,
            offered = round.offers.len(),
            "pickup offered"
        );
        Ok(Some(round.offered(p.id)))
    }

    /// The offers of round `number` of pickup `pickup_id` among `shortlist`, made at
    /// `now`: the best candidate (assign) or the best K (broadcast), with the jobs that go
    /// with them.
    fn round(
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
    fn choose(&self, shortlist: Shortlist) -> Choice {
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

    /// Writes `round` for pending pickup `p`, as read, in ONE PostgreSQL statement: a
    /// conditional update of the pickup to offered — still pending, not manual, in the
    /// round and slot read — and, only if it took, the inserts of the offers, the timeline
    /// row and the round's jobs. `claim` as in [`Self::escalate_now`]. The offers are
    /// pushed after the write.
    async fn offer_now(
        &self,
        p: &pickup::Model,
        mut round: Round,
        claim: Option<Uuid>,
    ) -> Result<bool> {
        debug_assert!(crate::pickups::can_transition(
            Status::PendingDispatch,
            Status::Offered
        ));
        let mut a = SqlArgs::default();
        let mut sql = String::from("WITH ");
        if let Some(job) = claim {
            sql += &claim_clause(&mut a, job);
        }
        sql += &format!(
            "m AS (UPDATE pickups SET status = {}, dispatch_round = {}, updated_at = {} \
               WHERE {} RETURNING id), ",
            a.arg(Status::Offered.as_str()),
            a.arg(round.number),
            a.arg(round.now),
            still_pending(&mut a, p, claim.is_some()),
        );
        let offers = round
            .offers
            .iter()
            .map(|o| {
                format!(
                    "({}::uuid, {}::uuid, {}::int4, {}::text, {}::timestamptz, {}::timestamptz)",
                    a.arg(o.id),
                    a.arg(o.recycler_id),
                    a.arg(o.round),
                    a.arg(o.status.clone()),
                    a.arg(o.expires_at),
                    a.arg(o.created_at),
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        sql += &format!(
            "f AS (INSERT INTO offers (id, pickup_id, recycler_id, round, status, expires_at, \
               created_at) SELECT v.id, m.id, v.recycler_id, v.round, v.status, v.expires_at, \
               v.created_at FROM m, (VALUES {offers}) AS v (id, recycler_id, round, status, \
               expires_at, created_at)), "
        );
        sql += &event_clause(&mut a, p, Status::Offered, &round.reason, round.now);
        if let Some(o) = outbox_clause(&mut a, std::mem::take(&mut round.jobs)) {
            sql += &o;
        }
        let (claimed, moved) = run_round(&self.db, a, sql, claim.is_some()).await?;
        if moved {
            let offered = round.offers.len();
            tracing::info!(pickup_id = %p.id, round = round.number, offered, "pickup offered");
            self.push_offers(Some(round.offered(p.id))).await;
        }
        Ok(claimed)
    }

    /// Sends pending pickup `p`, as read, to the manual-dispatch queue and tells the
    /// resident, in ONE PostgreSQL statement: a conditional update of the pickup — still
    /// pending, not yet manual, in the same round and slot as read, so a pickup that moved
    /// on meanwhile is left alone — and, only if it took, the inserts of its timeline row,
    /// the resident's notification and the jobs that go with them (data-modifying `WITH`
    /// clauses, as in booking). With `claim`, the statement first deletes that outbox row
    /// (skipping it if a relay holds it) and changes nothing unless it did; returns whether
    /// it did (always `true` without `claim`). The status push goes out after the write,
    /// through pub/sub when the dispatcher has it (its job is staged only if that fails).
    async fn escalate_now(
        &self,
        p: &pickup::Model,
        why: &str,
        claim: Option<Uuid>,
    ) -> Result<bool> {
        let now = Utc::now().trunc_subsecs(6);
        let queued = pickup::Model {
            manual_dispatch: true,
            updated_at: now,
            ..p.clone()
        };
        let push = status_push(&queued, Status::PendingDispatch, &[]);
        let mut jobs = Vec::new();
        let notice = resident_notice(&queued, Status::PendingDispatch)
            .map(crate::notifications::inbox_row)
            .transpose()?;
        if self.pubsub.is_none() {
            jobs.push((STATUS_CHANGED, push.clone(), None));
        }
        let mut a = SqlArgs::default();
        let mut sql = String::from("WITH ");
        if let Some(job) = claim {
            sql += &claim_clause(&mut a, job);
        }
        sql += &format!(
            "m AS (UPDATE pickups SET manual_dispatch = true, updated_at = {} \
               WHERE {} RETURNING id), ",
            a.arg(now),
            still_pending(&mut a, p, claim.is_some()),
        );
        sql += &event_clause(
            &mut a,
            p,
            Status::PendingDispatch,
            &format!("manual dispatch: {why}"),
            now,
        );
        if let Some(n) = notice {
            sql += &delivery_clauses(&mut a, n);
        }
        if let Some(o) = outbox_clause(&mut a, jobs) {
            sql += &o;
        }
        let (claimed, moved) = run_round(&self.db, a, sql, claim.is_some()).await?;
        if moved {
            tracing::info!(pickup_id = %p.id, why, "pickup sent to manual dispatch");
            if let Some(pubsub) = &self.pubsub
                && let Err(e) = push_status(&**pubsub, push.clone()).await
            {
                tracing::warn!(error = %e, "status push failed; staging the push job");
                if let Err(e) = outbox::stage(&self.db, STATUS_CHANGED, push, None).await {
                    tracing::warn!(error = %e, "could not stage the status push job");
                }
            }
        }
        Ok(claimed)
    }

    /// After the commit: sends each offered recycler their offer straight away (a
    /// dispatcher without pub/sub staged the `pickup.offers_made` job instead). If a push
    /// fails, that job is staged to retry it. A process that dies between the commit and
    /// the push loses that push: pushes are hints, the offer is in
    /// `GET /v1/recycler/offers`, and its timeout moves the pickup on either way. Also
    /// what a booking that wrote its first round ([`FirstRound`]) calls after its commit.
    pub(crate) async fn push_offers(&self, offered: Option<Offered>) {
        let (Some(pubsub), Some(o)) = (&self.pubsub, offered) else {
            return;
        };
        let mut failed = false;
        for (offer_id, recycler_id) in &o.offers {
            let data = serde_json::json!({
                "offer_id": offer_id,
                "pickup_id": o.pickup_id,
                "expires_at": o.expires_at,
            });
            if let Err(e) = realtime::push(&**pubsub, *recycler_id, "offer", data).await {
                tracing::warn!(error = %e, "offer push failed; staging the push job");
                failed = true;
                break;
            }
        }
        if failed
            && let Err(e) = outbox::stage(
                &self.db,
                OFFERS_MADE,
                serde_json::json!({ "pickup_id": o.pickup_id }),
                None,
            )
            .await
        {
            tracing::warn!(error = %e, "could not stage the offer push job");
        }
    }

    /// Expires the offers of `round` still open, and moves on.
    #[tracing::instrument(skip(self), fields(pickup_id = %pickup_id, round))]
    pub async fn offer_timeout(&self, pickup_id: Uuid, round: i32) -> Result<()> {
        let txn = self.db.begin().await?;
        if lock_pickup(&txn, pickup_id).await?.is_none() {
            return Ok(());
        }
        let expired = expire_round(&txn, pickup_id, round).await?;
        after_offer_closed(&txn, pickup_id).await?;
        if !expired.is_empty() {
            let status = crate::pickups::reload(&txn, pickup_id)
                .await?
                .status
                .parse()?;
            announce(&txn, pickup_id, status, &expired).await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Those of the recyclers `nearby` who can take `p`, with what ranks them, and the
    /// district's dispatch mode ([`read_candidates`]): in a van if it needs one and not
    /// offered it before.
    async fn candidates(
        &self,
        conn: &impl ConnectionTrait,
        p: &pickup::Model,
        nearby: &[Nearby],
    ) -> Result<Shortlist> {
        // Offers are only ever made by a dispatch round, which counts itself on the pickup.
        let offered = (p.dispatch_round > 0).then_some(p.id);
        let read = read_candidates(conn, &p.district_code, p.slot_id, nearby, offered).await?;
        Ok(read.shortlist(p.needs_van))
    }

    /// Reads, for a booking of address `address_id` into slot `slot_id` about to be
    /// written, what its pickup's first dispatch round reads: the recyclers near the
    /// address ([`GeoIndex::nearby`]) and those of them who can take a pickup of its
    /// district in that slot ([`read_candidates`]). From it [`Self::ahead`] makes the round
    /// the booking's own statement writes. `None` on SQLite (the round follows the commit,
    /// in its own transaction) and when the read fails (logged; the round after the commit
    /// reads for itself).
    pub async fn prefetch(&self, address_id: Uuid, slot_id: Uuid) -> Option<Prefetched> {
        if self.db.get_database_backend() != DatabaseBackend::Postgres {
            return None;
        }
        let read = async {
            let Some(address) = address::Entity::find_by_id(address_id)
                .one(&self.db)
                .await?
            else {
                return Ok(None);
            };
            let at = Position {
                lat: address.lat,
                lng: address.lng,
            };
            let nearby = self.search(at).await?;
            let read =
                read_candidates(&self.db, &address.district_code, slot_id, &nearby, None).await?;
            Ok::<_, Error>(Some(Prefetched {
                slot_id,
                district_code: address.district_code,
                at,
                nearby,
                read,
            }))
        };
        read.await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, %slot_id, "prefetching dispatch candidates failed; the round reads them");
            None
        })
    }

    /// What a booking needs to write its pickup's first round in its own statement, from
    /// what [`Self::prefetch`] read for it: `None` when that round would make no offer
    /// (nobody nearby can take a pickup of that slot, or the policy allows no round), and
    /// the booking leaves the round to the dispatch after its commit.
    pub fn ahead(&self, read: &Prefetched) -> Option<Ahead> {
        (!read.read.recyclers.is_empty() && self.policy.max_rounds >= 1).then(|| {
            let choice = |needs_van: bool| {
                let shortlist = read.read.clone().shortlist(needs_van);
                (!shortlist.candidates.is_empty()).then(|| self.choose(shortlist))
            };
            Ahead {
                slot_id: read.slot_id,
                district_code: read.district_code.clone(),
                at: read.at,
                manual_before: self.policy.manual_before_delta(),
                choices: [choice(false), choice(true)],
            }
        })
    }

    /// The recyclers with a fresh position within the policy's radius of `at`.
    async fn search(&self, at: Position) -> Result<Vec<Nearby>> {
        self.geo
            .nearby(at, self.policy.radius_m, 200, self.policy.fresh_within)
            .await
            .map_err(Error::from)
    }
}

/// What the first dispatch round of a pickup reads, read while the pickup was booked
/// ([`Dispatcher::prefetch`]).
#[derive(Debug, Clone)]
pub struct Prefetched {
    slot_id: Uuid,
    district_code: String,
    /// The booked address's position.
    at: Position,
    /// The recyclers near it.
    nearby: Vec<Nearby>,
    /// Those of them who can take a pickup of its district in the slot.
    read: Candidates,
}

impl Prefetched {
    /// For the first round of just-booked pickup `p`: the recyclers nearby, and the
    /// shortlist [`Dispatcher::candidates`] would read among them. `None` when this was
    /// read for another pickup (slot, district or position differ) or `p` has had a round
    /// (whose recyclers the shortlist would have to leave out).
    fn first_round(self, p: &pickup::Model) -> Option<(Vec<Nearby>, Shortlist)> {
        let same = self.slot_id == p.slot_id
            && self.district_code == p.district_code
            && self.at.lat == p.lat
            && self.at.lng == p.lng
            && p.dispatch_round == 0;
        same.then(|| (self.nearby, self.read.shortlist(p.needs_van)))
    }
}

/// What [`read_candidates`] found: the recyclers with their vehicle, and the district's
/// dispatch mode.
#[derive(Debug, Clone)]
struct Candidates {
    /// (candidate, whether they drive a van).
    recyclers: Vec<(Candidate, bool)>,
    mode: String,
}

impl Candidates {
    /// The shortlist of a pickup that does or does not need a van.
    fn shortlist(self, needs_van: bool) -> Shortlist {
        Shortlist {
            candidates: self
                .recyclers
                .into_iter()
                .filter(|&(_, van)| van || !needs_van)
                .map(|(c, _)| c)
                .collect(),
            mode: self.mode,
        }
    }
}

/// Those of the recyclers `nearby` who could take a pickup of slot `slot` in district
/// `district`, with what ranks them, and the district's dispatch mode, in ONE query:
/// approved, on shift, serving the district, below their capacity in the slot and, with
/// `offered` (a pickup id), not offered that pickup before; with their vehicle, their load
/// in the slot and the offers made to them in the last 24 hours. Read without locks:
/// accepting takes the capacity by a conditional update, and `uq_offers_pickup_recycler`
/// refuses a second offer to one recycler.
async fn read_candidates(
    conn: &impl ConnectionTrait,
    district: &str,
    slot: Uuid,
    nearby: &[Nearby],
    offered: Option<Uuid>,
) -> Result<Candidates> {
    let mut found = Candidates {
        recyclers: Vec::new(),
        mode: "assign".into(),
    };
    if nearby.is_empty() {
        return Ok(found);
    }
    let distance: HashMap<Uuid, f64> = nearby.iter().map(|n| (n.member, n.distance_m)).collect();
    let mut a = SqlArgs::default();
    let day_start = Utc::now() - chrono::Duration::hours(24);
    let district = a.arg(district.to_owned());
    let mut sql = format!(
        "SELECT r.user_id, r.slot_capacity, r.rating_sum, r.rating_count, r.complaints, \
           r.vehicle, COALESCE(l.load, 0) AS load, \
           (SELECT count(*) FROM offers t WHERE t.recycler_id = r.user_id \
              AND t.created_at >= {}) AS offers_today, \
           (SELECT dispatch_mode FROM districts WHERE code = {district}) AS mode \
         FROM recyclers r \
         JOIN recycler_districts d ON d.recycler_id = r.user_id \
           AND d.district_code = {district} \
         LEFT JOIN recycler_slot_loads l ON l.recycler_id = r.user_id AND l.slot_id = {} \
         WHERE r.user_id IN ({}) AND r.status = {} AND r.on_shift = {} \
           AND COALESCE(l.load, 0) < r.slot_capacity",
        a.arg(day_start),
        a.arg(slot),
        distance
            .keys()
            .map(|id| a.arg(*id))
            .collect::<Vec<_>>()
            .join(", "),
        a.arg("approved"),
        a.arg(true),
    );
    if let Some(pickup_id) = offered {
        sql += &format!(
            " AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.pickup_id = {} \
               AND o.recycler_id = r.user_id)",
            a.arg(pickup_id)
        );
    }
    let rows = conn
        .query_all_raw(a.statement_for(conn.get_database_backend(), sql))
        .await?;
    for row in rows {
        let recycler_id: Uuid = row.try_get("", "user_id")?;
        let rating_sum: i32 = row.try_get("", "rating_sum")?;
        let rating_count: i32 = row.try_get("", "rating_count")?;
        let offers_today: i64 = row.try_get("", "offers_today")?;
        let vehicle: String = row.try_get("", "vehicle")?;
        if let Some(mode) = row.try_get::<Option<String>>("", "mode")? {
            found.mode = mode;
        }
        let c = Candidate {
            recycler_id,
            distance_m: distance.get(&recycler_id).copied().unwrap_or(f64::MAX),
            load: row.try_get("", "load")?,
            capacity: row.try_get("", "slot_capacity")?,
            rating: (rating_count > 0).then(|| f64::from(rating_sum) / f64::from(rating_count)),
            complaints: row.try_get("", "complaints")?,
            offers_today: u64::try_from(offers_today).unwrap_or(0),
        };
        found.recyclers.push((c, vehicle == "van"));
    }
    Ok(found)
}

/// The recyclers who can take a pickup, and its district's dispatch mode.
struct Shortlist {
    candidates: Vec<Candidate>,
    /// `assign` or `broadcast`.
    mode: String,
}

/// When a pickup nobody can take at `now` is tried again: after the retry interval, or when
/// its slot becomes near (that round sends it to manual dispatch), whichever is sooner.
fn next_try(policy: &Policy, slot_starts_at: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    policy.retry().next_try(slot_starts_at, now)
}

/// Whether a slot starting at `slot_starts_at` is near at `now`: a round then sends a
/// pickup nobody has to manual dispatch.
fn slot_is_near(policy: &Policy, slot_starts_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    policy.retry().slot_is_near(slot_starts_at, now)
}

/// The id of the try a queued `pickup.dispatch` job `job` stages when it finds nobody: the
/// job's id plus one, so every delivery of that job stages the same row (and the outbox's
/// primary key keeps one). A chain of tries is a run of consecutive ids.
fn next_try_id(job: Uuid) -> Uuid {
    Uuid::from_u128(job.as_u128().wrapping_add(1))
}

/// Whether pickup `p` needs a dispatch round: it is pending and not in manual dispatch,
/// and, for a scheduled try, still in the round and slot that try follows.
fn due(p: &pickup::Model, after: Option<After>) -> bool {
    p.status == Status::PendingDispatch.as_str()
        && !p.manual_dispatch
        && after
            .is_none_or(|a| a.round == p.dispatch_round && a.slot_id.is_none_or(|s| s == p.slot_id))
}

/// The `pickup.dispatch` job that tries pickup `p` again: it names the round and slot it
/// follows, so that it does nothing once the pickup has had another round or been
/// rescheduled (each round that finds nobody schedules its own next try, and a
/// rescheduled pickup starts a new chain).
fn retry_payload(p: &pickup::Model) -> serde_json::Value {
    try_payload(p.id, p.dispatch_round, p.slot_id)
}

// ---- One-statement rounds on PostgreSQL: the clauses `offer_now` and `escalate_now`
// share. Each binds its values in `a` and returns SQL to put in the statement's WITH list.

/// `c`: deletes outbox row `job` unless a relay holds or has relayed it (the claim).
fn claim_clause(a: &mut SqlArgs, job: Uuid) -> String {
    format!(
        "c AS (DELETE FROM outbox WHERE id IN (\
           SELECT id FROM outbox WHERE id = {} AND relayed_at IS NULL \
           FOR UPDATE SKIP LOCKED) RETURNING id), ",
        a.arg(job)
    )
}

/// The condition of `m`, the pickup's update: `p` is still as read — pending, not manual,
/// in the same round and slot — and, when `claimed`, the claim took.
fn still_pending(a: &mut SqlArgs, p: &pickup::Model, claimed: bool) -> String {
    format!(
        "id = {} AND status = {} AND NOT manual_dispatch AND dispatch_round = {} \
         AND slot_id = {}{}",
        a.arg(p.id),
        a.arg(Status::PendingDispatch.as_str()),
        a.arg(p.dispatch_round),
        a.arg(p.slot_id),
        if claimed {
            " AND EXISTS (SELECT 1 FROM c)"
        } else {
            ""
        },
    )
}

/// `e`: the timeline row of `p` becoming `to`, written if `m` took.
fn event_clause(
    a: &mut SqlArgs,
    p: &pickup::Model,
    to: Status,
    reason: &str,
    now: DateTime<Utc>,
) -> String {
    format!(
        "e AS (INSERT INTO pickup_events (id, pickup_id, from_status, to_status, actor_id, \
           actor_role, reason, created_at) SELECT {}, m.id, {}, {}, {}, {}, {}, {} FROM m)",
        a.arg(Uuid::now_v7()),
        a.arg(p.status.clone()),
        a.arg(to.as_str()),
        a.arg(Actor::SYSTEM.user_id),
        a.arg(Actor::SYSTEM.role),
        a.arg(reason.to_owned()),
        a.arg(now),
    )
}

/// `o`: `jobs` staged in the outbox if `m` took (`None` when there are none). Goes last
/// in the WITH list: it starts with a comma.
fn outbox_clause(
    a: &mut SqlArgs,
    jobs: Vec<(&str, serde_json::Value, Option<DateTime<Utc>>)>,
) -> Option<String> {
    let rows = outbox::rows(jobs);
    if rows.is_empty() {
        return None;
    }
    let values = rows
        .into_iter()
        .map(|r| {
            format!(
                "({}::uuid, {}::text, {}::text, {}::timestamptz, {}::timestamptz)",
                a.arg(r.id),
                a.arg(r.topic),
                a.arg(r.payload),
                a.arg(r.run_at),
                a.arg(r.created_at),
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    Some(format!(
        ", o AS (INSERT INTO outbox (id, topic, payload, run_at, created_at) \
           SELECT v.id, v.topic, v.payload, v.run_at, v.created_at \
           FROM m, (VALUES {values}) AS v (id, topic, payload, run_at, created_at))"
    ))
}

/// The clauses writing notification `n` if the pickup moved (`m` holds a row) and, if it
/// awaits WeChat delivery, its `notify.deliver` job (see `notifications::notify`).
fn delivery_clauses(a: &mut SqlArgs, n: crate::entities::notification::Model) -> String {
    let id = n.id;
    let insert = crate::notifications::insert_sql(a, n, "m");
    let job = outbox::row(crate::notifications::delivery_job(id), Utc::now());
    format!(
        ", n AS ({insert} RETURNING wechat_state), \
         d AS (INSERT INTO outbox (id, topic, payload, run_at, created_at) \
           SELECT {}, {}, {}, {}, {} FROM n WHERE n.wechat_state = '{}')",
        a.arg(job.id),
        a.arg(job.topic),
        a.arg(job.payload),
        a.arg(job.run_at),
        a.arg(job.created_at),
        crate::notifications::WechatState::Pending.as_str(),
    )
}

/// Runs the round statement `sql` (its WITH list) and says whether the claim held (always,
/// without one) and whether the pickup moved.
///
/// A round that claims its outbox row commits without waiting for the WAL flush
/// (`synchronous_commit` off for that transaction only; PostgreSQL flushes it within
/// `wal_writer_delay`, 200 ms by default). What it writes is derived: if a crash loses it,
/// it loses the claim with it, so the dispatch job is back in the outbox and the round is
/// made again. Nothing durable can depend on it meanwhile, because any later synchronous
/// commit flushes the WAL before it, this transaction's included. The offer reaches the
/// recycler a flush sooner — 2–4 ms on a disk that idled, which was most of a dispatch's
/// latency. A round without a claim (a queued job, acknowledged after it) waits for the
/// flush as every other write does.
async fn run_round(
    db: &DatabaseConnection,
    a: SqlArgs,
    mut sql: String,
    claimed: bool,
) -> Result<(bool, bool)> {
    sql += if claimed {
        " SELECT (SELECT count(*) FROM c) AS claimed, (SELECT count(*) FROM m) AS moved, \
           set_config('synchronous_commit', 'off', true) AS commit_mode"
    } else {
        " SELECT 1::int8 AS claimed, (SELECT count(*) FROM m) AS moved"
    };
    let Some(row) = db.query_one_raw(a.statement(sql)).await? else {
        return Ok((false, false));
    };
    let claimed: i64 = row.try_get("", "claimed")?;
    let moved: i64 = row.try_get("", "moved")?;
    Ok((claimed == 1, moved == 1))
}

/// Deletes outbox row `id` unless a relay has it or has relayed it (its job is then on the
/// queue, which does the work); returns whether it did. On PostgreSQL it never waits for a
/// relay holding the row (`SKIP LOCKED`).
async fn claim_outbox_row(conn: &impl ConnectionTrait, id: Uuid) -> Result<bool> {
    let delete = outbox_row::Entity::delete_many();
    let delete = if conn.get_database_backend() == DatabaseBackend::Postgres {
        delete.filter(
            outbox_row::Column::Id.in_subquery(
                Query::select()
                    .column(outbox_row::Column::Id)
                    .from(outbox_row::Entity)
                    .and_where(outbox_row::Column::Id.eq(id))
                    .and_where(outbox_row::Column::RelayedAt.is_null())
                    .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
                    .to_owned(),
            ),
        )
    } else {
        delete
            .filter(outbox_row::Column::Id.eq(id))
            .filter(outbox_row::Column::RelayedAt.is_null())
    };
    Ok(delete.exec(conn).await?.rows_affected == 1)
}

/// Puts a pending pickup in the manual-dispatch queue and tells the resident.
async fn escalate(txn: &impl ConnectionTrait, p: &pickup::Model, why: &str) -> Result<()> {
    let now = Utc::now();
    let moved = pickup::Entity::update_many()
        .col_expr(pickup::Column::ManualDispatch, Expr::value(true))
        .col_expr(pickup::Column::UpdatedAt, Expr::value(now))
        .filter(pickup::Column::Id.eq(p.id))
        .filter(pickup::Column::Status.eq(Status::PendingDispatch.as_str()))
        .filter(pickup::Column::ManualDispatch.eq(false))
        .exec(txn)
        .await?
        .rows_affected;
    if moved == 1 {
        record_event(
            txn,
            p.id,
            Some(p.status.clone()),
            Status::PendingDispatch,
            &Actor::SYSTEM,
            &format!("manual dispatch: {why}"),
        )
        .await?;
        let queued = pickup::Model {
            manual_dispatch: true,
            updated_at: now,
            ..p.clone()
        };
        announce_as(txn, &queued, Status::PendingDispatch, &[]).await?;
        tracing::info!(pickup_id = %p.id, why, "pickup sent to manual dispatch");
    }
    Ok(())
}

/// `pickup.dispatch`.
pub struct DispatchHandler(pub Dispatcher);

#[async_trait]
impl JobHandler for DispatchHandler {
    async fn handle(&self, job: &Delivery) -> anyhow::Result<()> {
        let j: PickupJob = serde_json::from_value(job.payload.clone())?;
        Ok(self
            .0
            .dispatch_as(j.pickup_id, j.after(), IfNobody::Retry(Some(job.id)))
            .await?)
    }
}

/// `recycler.on_shift`.
pub struct OnShiftHandler(pub Dispatcher);

#[async_trait]
impl JobHandler for OnShiftHandler {
    async fn handle(&self, job: &Delivery) -> anyhow::Result<()> {
        let j: RecyclerJob = serde_json::from_value(job.payload.clone())?;
        self.0.recycler_on_shift(j.recycler_id).await?;
        Ok(())
    }
}

/// `pickup.offer_timeout`.
pub struct OfferTimeoutHandler(pub Dispatcher);

#[async_trait]
impl JobHandler for OfferTimeoutHandler {
    async fn handle(&self, job: &Delivery) -> anyhow::Result<()> {
        let j: PickupJob = serde_json::from_value(job.payload.clone())?;
        Ok(self
            .0
            .offer_timeout(j.pickup_id, j.round.unwrap_or(0))
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(distance_m: f64, load: i32, rating: Option<f64>, offers_today: u64) -> Candidate {
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

    #[test]
    fn nearer_wins_all_else_equal() {
        let near = c(500.0, 0, None, 0);
        let far = c(3000.0, 0, None, 0);
        assert_eq!(rank(vec![far.clone(), near.clone()])[0], near);
    }

    #[test]
    fn a_busy_recycler_yields_to_a_free_one_nearby() {
        let busy = c(500.0, 3, None, 0);
        let free = c(1500.0, 0, None, 0);
        assert_eq!(rank(vec![busy, free.clone()])[0], free);
    }

    #[test]
    fn fairness_spreads_offers_across_the_day() {
        let tired = c(1000.0, 0, None, 20);
        let fresh = c(2000.0, 0, None, 0);
        assert_eq!(rank(vec![tired, fresh.clone()])[0], fresh);
    }

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

    #[test]
    fn a_prefetch_answers_only_for_the_first_round_of_the_pickup_it_was_read_for() {
        let slot_id = Uuid::now_v7();
        let p = waiting(0, slot_id);
        let (tricycle, van) = (c(0.3, 0, None, 0), c(0.9, 1, None, 0));
        let nearby: Vec<Nearby> = [&tricycle, &van]
            .into_iter()
            .map(|c| Nearby {
                member: c.recycler_id,
                pos: Position {
                    lat: 36.45,
                    lng: 115.98,
                },
                distance_m: c.distance_m,
                at: Utc::now(),
            })
            .collect();
        let f = Prefetched {
            slot_id,
            district_code: p.district_code.clone(),
            at: Position {
                lat: p.lat,
                lng: p.lng,
            },
            nearby: nearby.clone(),
            read: Candidates {
                recyclers: vec![(tricycle.clone(), false), (van.clone(), true)],
                mode: "broadcast".into(),
            },
        };
        let (found, shortlist) = f.clone().first_round(&p).expect("answers");
        assert_eq!(found, nearby);
        assert_eq!(shortlist.mode, "broadcast");
        assert_eq!(shortlist.candidates, vec![tricycle, van.clone()]);
        // A pickup that needs a van is offered to vans only.
        let heavy = pickup::Model {
            needs_van: true,
            ..p.clone()
        };
        let (_, vans) = f.clone().first_round(&heavy).expect("answers");
        assert_eq!(vans.candidates, vec![van]);
        // Not for a pickup that has had a round, nor of another slot, district or place.
        let others = [
            waiting(1, slot_id),
            waiting(0, Uuid::now_v7()),
            pickup::Model {
                district_code: "371503".into(),
                ..p.clone()
            },
            pickup::Model {
                lat: p.lat + 0.01,
                ..p.clone()
            },
        ];
        for other in others {
            assert!(f.clone().first_round(&other).is_none(), "{other:?}");
        }
    }

    fn waiting(round: i32, slot_id: Uuid) -> pickup::Model {
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
            status: Status::PendingDispatch.as_str().into(),
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
            status: Status::Offered.as_str().into(),
            ..p
        };
        assert!(!due(&offered, try_of(1, slot)));
    }

    #[test]
    fn rating_and_complaints_count() {
        let good = c(1500.0, 0, Some(5.0), 0);
        let mut poor = c(1200.0, 0, Some(2.0), 0);
        poor.complaints = 2;
        assert_eq!(rank(vec![poor, good.clone()])[0], good);
    }
}
