//! Booking a pickup into a slot. The slot's capacity is taken by a conditional update, so
//! it is never exceeded however many residents book at once; the pickup, its items, its
//! timeline row and its dispatch job (or, on PostgreSQL, its first round) are written with
//! it or not at all.
//!
//! - `book.rs`: the entry point, which takes the database's path and answers;
//! - [`checks`]: the rules a booking is held to, and the reads that say which one failed;
//! - `sqlite.rs`: the embedded footprint's path, one transaction;
//! - [`postgres`]: the production path, one statement (`batch.sql`, its rows made in
//!   `batch.rs`) shared by the bookings of a slot that arrive together (`queue.rs`);
//! - `draft.rs`: what a booking writes before it knows the rows it names, and the answer;
//! - `input.rs`: what the resident sends;
//! - [`ahead`]: the first round dispatch hands a booking to write with it.
//!
//! Booking never decides whom to offer a pickup to: dispatch fills in
//! [`crate::pickups::retry::FirstTry`] and [`Ahead`] before the booking and makes the round
//! after it.

pub mod ahead;
mod batch;
mod book;
pub mod checks;
mod draft;
mod input;
pub mod postgres;
mod queue;
mod sqlite;

pub use self::{
    ahead::{Ahead, FirstRound},
    book::book,
    checks::{MAX_COUNT, MAX_ITEMS, MAX_PHOTOS, MAX_WEIGHT_G},
    draft::{Booked, INLINE_DISPATCH_GRACE},
    input::{BookingInput, ItemInput},
    postgres::Bookings,
};
