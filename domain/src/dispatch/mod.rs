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
//! round itself, in the booking's own statement ([`Dispatcher::ahead`], [`crate::pickups::booking::FirstRound`]):
//! the offers are committed with the booking and pushed at once.
//!
//! Every handler is idempotent: a round is written on condition that the pickup is still
//! as it was read (on PostgreSQL one statement whose conditional update guards the rest;
//! on SQLite a transaction under the pickup's lock) and does nothing when the work is
//! already done, so a job delivered twice, or re-delivered after a worker died
//! mid-dispatch, neither loses nor doubles a pickup.

// Kept small: no function over `too-many-lines-threshold` (clippy.toml), no file over
// ~600 lines (docs/ARCHITECTURE.md).
#![deny(clippy::too_many_lines)]

mod after_booking;
mod candidates;
mod claim;
mod dispatcher;
#[cfg(test)]
mod fixtures;
mod jobs;
mod on_shift;
mod policy;
mod postgres;
mod prefetch;
mod push;
mod ranking;
mod round;
mod sqlite;
mod timeout;
mod tries;

pub use self::{
    after_booking::{Booking, InlineDispatch},
    candidates::Prefetched,
    dispatcher::Dispatcher,
    jobs::{DispatchHandler, OfferTimeoutHandler, OnShiftHandler, jobs},
    policy::Policy,
    ranking::{Candidate, rank},
};
