//! A dispatch round as the rows that write it. Dispatch decides whom a pickup is offered to
//! ([`Choice`], plain data); a [`Round`] is that choice made into offers, a timeline reason
//! and the jobs that go with them, written by dispatch's round or by the booking's own
//! statement. Nothing here ranks or reads.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::topics::{OFFER_TIMEOUT, OFFERS_MADE};
use crate::entities::{district::DispatchMode, offer};

/// Whom a round offers a pickup to, as dispatch chose them, and how.
#[derive(Debug, Clone)]
pub struct Choice {
    /// The recyclers offered, best first.
    pub recyclers: Vec<Uuid>,
    /// The district's dispatch mode (named in the timeline).
    pub mode: DispatchMode,
    /// How long the offers stay open.
    pub offer_window: chrono::Duration,
    /// Whether the round stages the `pickup.offers_made` push job (the dispatcher has no
    /// pub/sub to push with itself).
    pub stage_push: bool,
}

impl Choice {
    /// Round `number` of pickup `pickup_id`, made at `now`: an open offer to each chosen
    /// recycler, expiring after the offer window, with the round's timeout job (and the
    /// push job, if it stages one).
    pub fn round(&self, pickup_id: Uuid, number: i32, now: DateTime<Utc>) -> Round {
        let expires_at = now + self.offer_window;
        let offers: Vec<offer::Model> = self
            .recyclers
            .iter()
            .map(|&recycler_id| offer::Model {
                id: Uuid::now_v7(),
                pickup_id,
                recycler_id,
                round: number,
                status: offer::Status::Open,
                reason: None,
                expires_at,
                created_at: now,
                responded_at: None,
            })
            .collect();
        let mut jobs = vec![(
            OFFER_TIMEOUT,
            serde_json::json!({ "pickup_id": pickup_id, "round": number }),
            Some(expires_at),
        )];
        if self.stage_push {
            jobs.push((
                OFFERS_MADE,
                serde_json::json!({ "pickup_id": pickup_id }),
                None,
            ));
        }
        Round {
            number,
            reason: format!(
                "round {number}: offered to {} recycler(s) ({})",
                offers.len(),
                self.mode.as_str()
            ),
            offers,
            expires_at,
            now,
            jobs,
        }
    }
}

/// A round that makes offers, as [`Choice::round`] made it.
#[derive(Debug)]
pub struct Round {
    /// The pickup's round number once written.
    pub number: i32,
    /// The offers.
    pub offers: Vec<offer::Model>,
    /// When they expire.
    pub expires_at: DateTime<Utc>,
    /// When it was decided; the time it is written with.
    pub now: DateTime<Utc>,
    /// The timeline row's reason.
    pub reason: String,
    /// The offer timeout (and, without pub/sub, the push job); taken when staged.
    pub jobs: Vec<(&'static str, serde_json::Value, Option<DateTime<Utc>>)>,
}

impl Round {
    /// What to push once written.
    pub fn offered(&self, pickup_id: Uuid) -> Offered {
        Offered {
            pickup_id,
            expires_at: self.expires_at,
            offers: self.offers.iter().map(|o| (o.id, o.recycler_id)).collect(),
        }
    }
}

/// The offers one round made, to push once it has committed.
#[derive(Debug, Clone)]
pub struct Offered {
    /// The pickup.
    pub pickup_id: Uuid,
    /// When the offers expire.
    pub expires_at: DateTime<Utc>,
    /// (offer, recycler)
    pub offers: Vec<(Uuid, Uuid)>,
}
