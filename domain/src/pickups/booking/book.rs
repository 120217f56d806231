//! Booking a pickup: the one entry point, which takes the database's path (one statement
//! on PostgreSQL, one transaction on SQLite) and answers with what was written.

use sea_orm::{DatabaseBackend, DatabaseConnection};

use super::{
    ahead::Ahead,
    checks::Checked,
    draft::{Booked, Request},
    input::BookingInput,
    postgres::{self, Bookings},
    sqlite,
};
use crate::{
    auth::{Principal, Role},
    error::Result,
    pickups::{retry::FirstTry, rules::Rules},
};

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
    /// its slot waiting in this process at the same moment (`queue.rs`): it checks the
    /// address, the items and the slot, takes the slot's capacity by a conditional update
    /// and, only if all of that held, inserts the pickup, its items, its timeline row and
    /// its dispatch job (data-modifying `WITH` clauses; the statement is its own
    /// transaction, so the slot row that every booking of that slot updates is locked for
    /// one statement). Only when it refuses does the booking read the rows it names
    /// (`checks.rs`) to say why, with the same rules the SQLite path checks. On SQLite: the
    /// reads, the checks and the writes in one transaction, the slot's update last. The
    /// answer is built from what was written rather than read back.
    ///
    /// `first` is when the dispatch job first runs (`dispatch::Dispatcher::first_try`):
    /// when it waits and the slot is not near, the job is written as the pickup's next try
    /// ([`Booked::waits_until`]) and the booking makes no round after its commit.
    ///
    /// `ahead` (PostgreSQL; `dispatch::Dispatcher::ahead`): the booking's statement also
    /// writes the pickup's first round, in place of its dispatch job, when the pickup is
    /// where its candidates were read for ([`super::FirstRound`]); the answer is then the pickup
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
