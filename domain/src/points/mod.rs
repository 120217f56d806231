//! Green points (绿色积分, the plan's resident "smart account"): settlement of completed
//! pickups, expiry by lot, administrators' adjustments, budgets and dispute resolution,
//! and the readers' views. The ledger itself is [`crate::ledger`].

pub mod admin;
pub mod earnings;
pub mod expiry;
pub mod jobs;
pub mod settlement;

pub use jobs::jobs;
