//! `/v1/recycler`: the recycler's day.

pub mod accept;
pub mod arrive;
pub mod complete;
pub mod depart;
pub mod location;
pub mod no_show;
pub mod offers;
pub mod pickups;
pub mod reject;
pub mod shift;
