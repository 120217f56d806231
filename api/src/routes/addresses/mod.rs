//! `/v1/me/addresses`: the resident's saved addresses.

pub mod create;
pub mod delete;
pub mod list;
pub mod update;
