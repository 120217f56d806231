//! `/v1/recycler-applications`: becoming a recycler.

pub mod amend;
pub mod create;
pub mod mine;
