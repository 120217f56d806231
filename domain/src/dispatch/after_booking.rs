//! A booking as a process makes it, end to end: dispatch reads what the pickup's first
//! round needs, the booking is written (with that round, on PostgreSQL, when it applies),
//! and otherwise the first round follows the commit in the process that booked, rather
//! than after the relay and the queue have carried its `pickup.dispatch` job to a worker.
//! The job stays the fallback.

use std::{sync::Arc, time::Instant};

use tokio::sync::Semaphore;

use super::{candidates::Prefetched, dispatcher::Dispatcher};
use crate::{
    auth::Principal,
    error::Result,
    jobs::outbox::OutboxSignal,
    pickups::{
        booking::{Booked, BookingInput, Bookings, INLINE_DISPATCH_GRACE},
        retry::FirstTry,
        rules::Rules,
    },
};

/// At most this many dispatches run at once right after bookings in one process. With 16,
/// a closed-loop booking rush on 2 cores left a fifth of its dispatches to the queue (each
/// then costs a relay pass, the queue's round trips and a worker's read of the pickup); with
/// 32, none.
const INLINE_DISPATCHES: usize = 32;
/// At most this many more wait for their turn; beyond that (and for any that wait longer
/// than [`INLINE_DISPATCH_GRACE`]) the queue does the work.
const INLINE_DISPATCHES_QUEUED: usize = 256;

/// Bounds the dispatches a process runs right after its own bookings. One per process,
/// owned by its platform.
pub struct InlineDispatch {
    /// Bounds the dispatches running at once.
    running: Arc<Semaphore>,
    /// Bounds those running or waiting for [`Self::running`].
    queued: Arc<Semaphore>,
}

impl Default for InlineDispatch {
    fn default() -> Self {
        Self {
            running: Arc::new(Semaphore::new(INLINE_DISPATCHES)),
            queued: Arc::new(Semaphore::new(INLINE_DISPATCHES_QUEUED)),
        }
    }
}

/// What a process books with: its bookings queue, its bound on inline dispatches, and the
/// signal that wakes its relay.
pub struct Booking<'a> {
    /// The process's bookings (see [`Bookings`]).
    pub bookings: &'a Bookings,
    /// The process's inline dispatches.
    pub inline: &'a InlineDispatch,
    /// Wakes the relay after commits that staged jobs.
    pub signal: &'a OutboxSignal,
    /// The booking rules in force.
    pub rules: Rules,
}

impl Dispatcher {
    /// Books pickup `input` for `who`: first decides when its dispatch job first runs
    /// ([`Self::first_try`]) and, if at once, reads what its first round needs
    /// ([`Self::prefetch`]), so that the booking's own statement writes the round and the
    /// offers go out at its commit ([`Self::ahead`]); then books it
    /// ([`Bookings::book`]), and dispatches it after the commit ([`Self::after_commit`]).
    pub async fn book(
        &self,
        with: Booking<'_>,
        who: &Principal,
        input: BookingInput,
    ) -> Result<Booked> {
        let first = self.first_try().await;
        let prefetched = match first {
            FirstTry::AtOnce => self.prefetch(input.address_id, input.slot_id).await,
            FirstTry::Wait(_) => None,
        };
        let ahead = prefetched.as_ref().and_then(|f| self.ahead(f));
        let booked = with
            .bookings
            .book(&self.db, who, with.rules, first, ahead, input)
            .await?;
        self.after_commit(with.inline, with.signal, &booked, prefetched);
        Ok(booked)
    }

    /// Dispatches a pickup this process has just booked right after the commit (see
    /// [`Self::dispatch_booked`]). The job stays the fallback: the dispatch claims it in
    /// the dispatch's own write, by deleting its outbox row (or moving it to the next try,
    /// when nobody can take the pickup yet), and leaves it to the queue when a relay took
    /// it first, when the dispatch fails, when the process stops mid-way, or when
    /// 256 are already waiting. When the booking wrote the first
    /// round itself (`pickups::booking::FirstRound`), this only pushes its offers.
    ///
    /// `prefetched`: what the round reads, read before the booking ([`Self::prefetch`]).
    pub fn after_commit(
        &self,
        inline: &InlineDispatch,
        signal: &OutboxSignal,
        booked: &Booked,
        prefetched: Option<Prefetched>,
    ) {
        if let Some(offered) = booked.offered.clone() {
            let (dispatcher, signal) = (self.clone(), signal.clone());
            tokio::spawn(async move {
                dispatcher.push_offers(Some(offered)).await;
                // The booking staged the round's offer timeout.
                signal.committed();
            });
            return;
        }
        if booked.waits_until.is_some() {
            // Its job is its next try (nobody was on shift): there is no round to make now.
            return;
        }
        let Ok(queued) = inline.queued.clone().try_acquire_owned() else {
            return;
        };
        let running = inline.running.clone();
        let dispatcher = self.clone();
        let signal = signal.clone();
        let (pickup, starts_at, job) = (
            booked.pickup.clone(),
            booked.slot_starts_at,
            booked.dispatch_job,
        );
        let since = Instant::now();
        tokio::spawn(async move {
            let Ok(permit) = running.acquire_owned().await else {
                return;
            };
            if chrono::Duration::from_std(since.elapsed()).unwrap_or(chrono::Duration::MAX)
                >= INLINE_DISPATCH_GRACE
            {
                // The job is due: a relay has it or is about to.
                return;
            }
            if let Err(e) = dispatcher
                .dispatch_booked(&pickup, starts_at, job, prefetched)
                .await
            {
                tracing::warn!(error = %e, pickup_id = %pickup.id, "dispatch after booking failed; the queued job will do it");
            }
            drop((permit, queued));
            // The dispatch staged jobs (offer timeout, notifications), or gave the row back.
            signal.committed();
        });
    }
}
