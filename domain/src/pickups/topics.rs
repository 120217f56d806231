//! The job topics of door-to-door recycling, in one place: what each job does is said
//! where its handler is; who stages it, here.

/// `pickup.dispatch`: make a pickup's next dispatch round (staged by booking,
/// rescheduling, a closed offer, and a round that found nobody; handled by
/// `dispatch::DispatchHandler`).
pub const DISPATCH: &str = "pickup.dispatch";
/// `pickup.completed`: settle a completed pickup (staged by `complete`; handled by
/// `points::settlement`).
pub const COMPLETED: &str = "pickup.completed";
/// `pickup.status_changed`: push a status change to the resident, the recycler and the
/// recyclers whose offers were withdrawn ([`super::notices`]; handled by
/// [`super::events::StatusChangedHandler`]).
pub const STATUS_CHANGED: &str = "pickup.status_changed";
/// `pickup.offer_timeout`: close the offers of a round left unanswered (staged with each
/// round; handled by `dispatch::OfferTimeoutHandler`).
pub const OFFER_TIMEOUT: &str = "pickup.offer_timeout";
/// `pickup.offers_made`: push a round's offers to their recyclers, when the round could
/// not push them itself ([`super::events::OffersMadeHandler`]).
pub const OFFERS_MADE: &str = "pickup.offers_made";
/// `recycler.on_shift`: offer the pickups waiting in their districts to a recycler who
/// came on shift or back on the map (staged by `recyclers`; handled by
/// `dispatch::OnShiftHandler`).
pub const ON_SHIFT: &str = "recycler.on_shift";
/// `pickups.expire`: expire the pickups whose slot ended without a recycler (periodic;
/// [`super::expiry::ExpireHandler`]).
pub const EXPIRE: &str = "pickups.expire";
