//! The first round a booking can write in its own statement (PostgreSQL): plain data
//! dispatch fills in before the booking (`dispatch::Dispatcher::ahead`), from what it read
//! for the booked address and slot. The round is committed with the booking, and its
//! offers go out as soon as it is.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    pickups::round::{Choice, Round},
    ports::geo::Position,
};

/// What a booking needs to write its pickup's first round: where the candidates were read
/// for, and whom the round offers the pickup to, whether or not it needs a van (the
/// booking's statement knows which, from the categories it reads).
#[derive(Debug, Clone)]
pub struct Ahead {
    /// The slot the candidates were read for.
    pub slot_id: Uuid,
    /// The district the candidates were read for.
    pub district_code: String,
    /// The position the candidates were read for.
    pub at: Position,
    /// A slot starting within this of the booking is near: no round is written with it
    /// (a round then sends the pickup to manual dispatch instead).
    pub manual_before: chrono::Duration,
    /// Whom a pickup that needs no van, and one that does, is offered to; `None` where
    /// nobody can take it.
    pub choices: [Option<Choice>; 2],
}

impl Ahead {
    /// The first round of pickup `pickup_id`, booked at `now`, for either answer to
    /// whether it needs a van; the statement writes the one that applies, if the pickup
    /// is where this was read for ([`FirstRound`]).
    pub(crate) fn first_round(&self, pickup_id: Uuid, now: DateTime<Utc>) -> FirstRound {
        let round = |c: &Option<Choice>| c.as_ref().map(|c| c.round(pickup_id, 1, now));
        FirstRound {
            slot_id: self.slot_id,
            district_code: self.district_code.clone(),
            at: self.at,
            far: now + self.manual_before,
            rounds: [round(&self.choices[0]), round(&self.choices[1])],
        }
    }
}

/// A pickup's first round, decided before its booking is written, which writes it in the
/// same statement (PostgreSQL): the round is committed with the booking, and the offers go
/// out as soon as it is. The statement writes it only if the pickup is still where the
/// candidates were read for — same slot, district and position — and its slot is not
/// near (a round then sends the pickup to manual dispatch instead); otherwise the booking
/// writes its dispatch job as usual and the round follows the commit.
#[derive(Debug)]
pub struct FirstRound {
    /// The slot, district and position the candidates were read for.
    pub(crate) slot_id: Uuid,
    pub(crate) district_code: String,
    pub(crate) at: Position,
    /// Written only if the slot starts after this (its slot is not near).
    pub(crate) far: DateTime<Utc>,
    /// The round of a pickup that needs no van, and of one that does; `None` where nobody
    /// can take it.
    pub(crate) rounds: [Option<Round>; 2],
}

impl FirstRound {
    /// The round of a pickup that does or does not need a van, if anyone can take it.
    pub(crate) fn round(&self, needs_van: bool) -> Option<&Round> {
        self.rounds[usize::from(needs_van)].as_ref()
    }
}
