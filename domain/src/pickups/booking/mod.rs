//! Booking a pickup into a slot. The slot's capacity is taken by a conditional update, so
//! it is never exceeded however many residents book at once; the pickup, its items, its
//! timeline row and its dispatch job (or, on PostgreSQL, its first round) are written with
//! it or not at all.
//!
//! - [`checks`]: the rules a booking is held to, and the reads that say which one failed;
//! - [`sqlite`]: the embedded footprint's path, one transaction;
//! - [`postgres`]: the production path, one statement ([`batch.sql`](postgres)) shared by the
//!   bookings of a slot that arrive together ([`queue`]);
//! - [`draft`]: what a booking writes before it knows the rows it names, and the answer;
//! - [`ahead`]: the first round dispatch hands a booking to write with it.
//!
//! Booking never decides whom to offer a pickup to: dispatch fills in [`FirstTry`] and
//! [`Ahead`] before the booking and makes the round after it.

pub mod ahead;
mod batch;
pub mod checks;
mod draft;
pub mod postgres;
mod queue;
mod sqlite;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{DatabaseBackend, DatabaseConnection};
use serde::Deserialize;
use uuid::Uuid;

pub use self::{
    ahead::{Ahead, FirstRound},
    checks::{MAX_COUNT, MAX_ITEMS, MAX_PHOTOS, MAX_WEIGHT_G},
    postgres::Bookings,
};
use self::{checks::Checked, draft::Request};
use super::{retry::FirstTry, round::Offered, rules::Rules, views::PickupView};
use crate::{
    auth::{Principal, Role},
    entities::pickup,
    error::Result,
};

/// How long a booking's dispatch job waits in the outbox for the booking process to
/// claim it (and dispatch inline) before any relay hands it to the queue.
pub const INLINE_DISPATCH_GRACE: Duration = Duration::seconds(2);

/// One item to collect.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    /// Category id.
    pub category_id: Uuid,
    /// Estimated weight in grams (categories sold by the kg).
    pub estimated_weight_g: Option<i32>,
    /// Estimated count (categories sold by the piece).
    pub estimated_count: Option<i32>,
}

/// A booking.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingInput {
    /// One of the caller's addresses.
    pub address_id: Uuid,
    /// A slot from `GET /v1/pickup-slots` for that address.
    pub slot_id: Uuid,
    /// What to collect, one entry per category.
    pub items: Vec<ItemInput>,
    /// The caller's uploads (purpose `pickup_photo`) showing the items.
    #[serde(default)]
    pub photo_ids: Vec<Uuid>,
    /// Note to the recycler (floor, where to knock …), up to 200 characters.
    #[serde(default)]
    pub note: Option<String>,
}

/// A booking just committed: what the resident is answered, and the id of the dispatch
/// job it staged (see `dispatch::Dispatcher::dispatch_booked`).
#[derive(Debug, Clone)]
pub struct Booked {
    /// The pickup as booked.
    pub view: PickupView,
    /// The outbox row of its `pickup.dispatch` job.
    pub dispatch_job: Uuid,
    /// When that job runs, if it was written as the pickup's next try (nobody was on
    /// shift): no round is made after the commit. `None`: a round is due at once.
    pub waits_until: Option<DateTime<Utc>>,
    /// The pickup's row as written.
    pub pickup: pickup::Model,
    /// When its slot starts.
    pub slot_starts_at: DateTime<Utc>,
    /// The offers of the first round, when the booking wrote it itself (see
    /// [`FirstRound`]): to push now. Its dispatch job was not written.
    pub offered: Option<Offered>,
}

/// Books a pickup on its own, as if no other booking of its slot were waiting: a process
/// books through its platform's [`Bookings`], which writes the bookings of a slot that
/// arrive together in one statement ([`Bookings::book`] says the rest).
pub async fn book(
    db: &DatabaseConnection,
    who: &Principal,
    rules: Rules,
    first: FirstTry,
    ahead: Option<Ahead>,
    input: BookingInput,
) -> Result<Booked> {
    book_with(db, None, who, rules, first, ahead, input).await
}

impl Bookings {
    /// Books a pickup.
    ///
    /// Round trips are what a booking costs, so it makes few. On PostgreSQL a booking
    /// that is valid costs ONE statement (`batch.sql`), shared with the other bookings of
    /// its slot waiting in this process at the same moment ([`queue`]): it checks the
    /// address, the items and the slot, takes the slot's capacity by a conditional update
    /// and, only if all of that held, inserts the pickup, its items, its timeline row and
    /// its dispatch job (data-modifying `WITH` clauses; the statement is its own
    /// transaction, so the slot row that every booking of that slot updates is locked for
    /// one statement). Only when it refuses does the booking read the rows it names
    /// ([`checks`]) to say why, with the same rules the SQLite path checks. On SQLite: the
    /// reads, the checks and the writes in one transaction, the slot's update last. The
    /// answer is built from what was written rather than read back.
    ///
    /// `first` is when the dispatch job first runs (`dispatch::Dispatcher::first_try`):
    /// when it waits and the slot is not near, the job is written as the pickup's next try
    /// ([`Booked::waits_until`]) and the booking makes no round after its commit.
    ///
    /// `ahead` (PostgreSQL; `dispatch::Dispatcher::ahead`): the booking's statement also
    /// writes the pickup's first round, in place of its dispatch job, when the pickup is
    /// where its candidates were read for ([`FirstRound`]); the answer is then the pickup
    /// as offered, and [`Booked::offered`] what to push.
    pub async fn book(
        &self,
        db: &DatabaseConnection,
        who: &Principal,
        rules: Rules,
        first: FirstTry,
        ahead: Option<Ahead>,
        input: BookingInput,
    ) -> Result<Booked> {
        book_with(db, Some(self), who, rules, first, ahead, input).await
    }
}

#[tracing::instrument(name = "book", skip_all, fields(user_id = %who.user_id))]
async fn book_with(
    db: &DatabaseConnection,
    bookings: Option<&Bookings>,
    who: &Principal,
    rules: Rules,
    first: FirstTry,
    ahead: Option<Ahead>,
    input: BookingInput,
) -> Result<Booked> {
    who.require_role(&[Role::Resident])?;
    let pg = db.get_database_backend() == DatabaseBackend::Postgres;
    let request = Request::new(pg, who, rules, first, ahead, input)?;
    let (checked, with_round): (Checked, bool) = if pg {
        postgres::book(db, bookings, &request).await?
    } else {
        (sqlite::book(db, &request).await?, false)
    };
    request.answer(checked, with_round)
}
