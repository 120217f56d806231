//! `/v1/me`: the caller's own profile.

pub mod get;
pub mod update;
