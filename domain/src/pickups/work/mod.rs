//! The recycler's day: open offers, accept, reject, depart, arrive, no-show with proof, and
//! completion with the weigh ticket, which stages the event settlement consumes. Also
//! manual dispatch by administrators and station managers, and their monitor. One file
//! per action.

mod approved;
mod assign;
mod complete;
mod lists;
mod offers;
mod steps;

pub(crate) use self::complete::{record_weighed, validate_weighed};
pub use self::{
    approved::approved_recycler,
    assign::{AssignInput, assign_manually},
    complete::{CompleteInput, WeighedItem, complete},
    lists::{MonitorQuery, assigned, monitor},
    offers::{OfferView, RejectInput, accept, open_offers, reject},
    steps::{NoShowInput, arrive, depart, no_show},
};
