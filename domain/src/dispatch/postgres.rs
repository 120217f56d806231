//! A round on PostgreSQL: read without a lock, then written as ONE statement whose
//! conditional update of the pickup (still pending, in the round and slot read) guards
//! everything else it writes, so two rounds racing for one pickup cannot both write. The
//! statement is assembled from small clauses (each binds its values and returns its part
//! of the `WITH` list): the offers and jobs it carries vary in number, so it is built, not
//! kept in a `.sql` file.

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use uuid::Uuid;

use super::{
    candidates::Prefetched,
    dispatcher::Dispatcher,
    round::Plan,
    tries::{IfNobody, retry_payload},
};
use crate::{
    db::SqlArgs,
    entities::pickup,
    error::Result,
    jobs::outbox,
    pickups::{
        Actor, Status,
        events::push_status,
        notices::{resident_notice, status_push},
        retry::log_waiting,
        round::Round,
        topics::STATUS_CHANGED,
    },
};

impl Dispatcher {
    /// One round for pending pickup `p`, as read, on PostgreSQL, without a transaction:
    /// the plan and the shortlist are read unlocked, then ONE statement writes the round
    /// ([`Self::offer_now`] or [`Self::escalate_now`]) on condition that the pickup is still
    /// as read. Two rounds racing for one pickup cannot both write: the second finds the
    /// round moved on and changes nothing. With `claim`, see [`Self::escalate_now`];
    /// returns whether the claim held (always `true` without one). With `prefetched` (read
    /// while `p` was booked), neither the recyclers nearby nor the shortlist are read again
    /// when it answers for `p` ([`Prefetched::first_round`]).
    pub(super) async fn round_now(
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

    /// Nobody can take pending pickup `p` yet (PostgreSQL). With `claim` (the booking's own
    /// dispatch job, still in the outbox), that job becomes the next try: ONE statement
    /// moves it to [`Self::retry_at`] unless a relay holds it, which claims it as deleting
    /// it would, and is run and committed asynchronously by [`run_round`] (a lost move leaves
    /// the job due within the booking's grace, and the round is made again). Without a
    /// claim, the next try is staged when this round carries the pickup's dispatch. Returns
    /// whether the claim held (always `true` without one).
    pub(super) async fn wait_now(
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

    /// Writes `round` for pending pickup `p`, as read, in ONE PostgreSQL statement: a
    /// conditional update of the pickup to offered — still pending, not manual, in the
    /// round and slot read — and, only if it took, the inserts of the offers, the timeline
    /// row and the round's jobs. `claim` as in [`Self::escalate_now`]. The offers are
    /// pushed after the write.
    pub(super) async fn offer_now(
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
                    a.arg(o.status.as_str()),
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
    pub(super) async fn escalate_now(
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
        a.arg(p.status.as_str()),
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
