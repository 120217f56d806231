//! Door-to-door pickups: addresses, booking, the state machine with its timeline, and the
//! recycler's day. Every transition is ONE conditional update that checks the current state
//! (and, for recyclers, that the pickup is theirs) and writes an event row in the same
//! transaction; a transition that does not apply is refused with 409 and changes nothing.

// Kept small: no function over `too-many-lines-threshold` (clippy.toml), no file over
// ~600 lines (docs/ARCHITECTURE.md).
#![deny(clippy::too_many_lines)]

pub mod addresses;
pub mod booking;
pub mod cancel;
pub mod capacity;
pub mod complain;
pub mod dispute;
pub mod events;
pub mod expiry;
pub mod jobs;
pub mod locks;
pub mod notices;
pub mod offers;
pub mod rate;
pub mod reschedule;
pub mod retry;
pub mod round;
pub mod rules;
pub mod status;
pub mod timeline;
pub mod topics;
pub mod transition;
pub mod views;
pub mod work;

pub use capacity::{release_recycler_load, release_slot, take_recycler_load, take_slot};
pub use jobs::jobs;
pub use rules::Rules;
pub use status::{Status, TRANSITIONS, can_transition};
pub use timeline::{Actor, record_event, record_event_at};
pub use transition::{Transition, reload, transition, transition_locked};
pub use views::{
    EventView, ItemView, PickupView, RecyclerBrief, get, list_mine, load_visible, page_of_views,
    view,
};
