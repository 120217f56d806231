//! A pickup's states (the type is the `pickups.status` column's, [`Status`]) and the legal
//! moves between them. The table is the whole state machine: [`super::transition::transition`]
//! refuses any move that is not in it.

use std::str::FromStr;

pub use crate::entities::pickup::Status;
use crate::error::{Error, Result};

impl Status {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::PendingDispatch => "pending_dispatch",
            Status::Offered => "offered",
            Status::Accepted => "accepted",
            Status::EnRoute => "en_route",
            Status::Arrived => "arrived",
            Status::Completed => "completed",
            Status::Settled => "settled",
            Status::Cancelled => "cancelled",
            Status::NoShow => "no_show",
            Status::Expired => "expired",
        }
    }

    /// States in which a recycler holds the pickup.
    pub const WITH_RECYCLER: [Status; 3] = [Status::Accepted, Status::EnRoute, Status::Arrived];

    /// States before a recycler holds it.
    pub const UNASSIGNED: [Status; 2] = [Status::PendingDispatch, Status::Offered];

    /// Whether the pickup is over.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Settled | Status::Cancelled | Status::NoShow | Status::Expired
        )
    }
}

impl FromStr for Status {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "pending_dispatch" => Status::PendingDispatch,
            "offered" => Status::Offered,
            "accepted" => Status::Accepted,
            "en_route" => Status::EnRoute,
            "arrived" => Status::Arrived,
            "completed" => Status::Completed,
            "settled" => Status::Settled,
            "cancelled" => Status::Cancelled,
            "no_show" => Status::NoShow,
            "expired" => Status::Expired,
            other => {
                return Err(Error::Internal(anyhow::anyhow!(
                    "unknown pickup status {other}"
                )));
            }
        })
    }
}

/// A status is its stored name: `status == "offered"`.
impl PartialEq<&str> for Status {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The legal transitions: (from, to). Anything else is refused.
pub const TRANSITIONS: &[(Status, Status)] = {
    use Status::*;
    &[
        (PendingDispatch, Offered),
        (PendingDispatch, PendingDispatch),
        (Offered, PendingDispatch),
        (Offered, Accepted),
        (PendingDispatch, Accepted),
        (Offered, Offered),
        (Accepted, PendingDispatch),
        (Accepted, EnRoute),
        (EnRoute, Arrived),
        (Arrived, Completed),
        (Arrived, NoShow),
        (Completed, Settled),
        (PendingDispatch, Cancelled),
        (Offered, Cancelled),
        (Accepted, Cancelled),
        (EnRoute, Cancelled),
        (PendingDispatch, Expired),
        (Offered, Expired),
    ]
};

/// Whether `from → to` is a legal transition.
pub fn can_transition(from: Status, to: Status) -> bool {
    TRANSITIONS.contains(&(from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_states_have_no_way_out() {
        for (from, _) in TRANSITIONS {
            assert!(
                !from.is_final(),
                "{from:?} is final but has a transition out"
            );
        }
    }

    #[test]
    fn the_happy_path_is_legal_and_skipping_is_not() {
        use Status::*;
        let path = [
            PendingDispatch,
            Offered,
            Accepted,
            EnRoute,
            Arrived,
            Completed,
            Settled,
        ];
        for w in path.windows(2) {
            assert!(can_transition(w[0], w[1]), "{:?} → {:?}", w[0], w[1]);
        }
        assert!(!can_transition(PendingDispatch, Completed));
        assert!(!can_transition(Accepted, Arrived));
        assert!(!can_transition(Completed, Cancelled));
        assert!(!can_transition(Arrived, Cancelled));
    }

    #[test]
    fn names_round_trip() {
        for (a, b) in TRANSITIONS {
            assert_eq!(a.as_str().parse::<Status>().unwrap(), *a);
            assert_eq!(b.as_str().parse::<Status>().unwrap(), *b);
        }
    }
}
