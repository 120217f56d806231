//! The recycled construction-material marketplace (建筑垃圾再生产品供求, the plan's 三(四)3(2)
//! and 四(二)4): verified merchants list recycled products and post demand; buyers inquire,
//! suppliers quote, an accepted quote is a deal (payment happens offline); the public
//! searches listings and reads the statistics.
//!
//! - [`merchants`]: applications, review, public profiles; [`credit_code`] checks the
//!   unified social credit code.
//! - [`product_types`]: the reference data (codes, units, standards).
//! - [`listings`]: a listing's lifecycle (`draft → pending_review → published → withdrawn`,
//!   `rejected`), review and take-down; [`certificates`] and the badges they give
//!   (`certified`, `procurement_ready`), kept true daily by a job.
//! - [`search`]: the listings index (through the search port), the job that keeps it and
//!   the public search.
//! - [`demands`]: demand (求购), its expiry and matching with listings.
//! - [`inquiries`] and [`deals`]: inquiry, messages, quotes, accept, delivery, completion.
//! - [`engagement`]: favourites and reports; [`stats`]: the public figures.
//!
//! What must never happen: stock below zero (a check, and accepts take stock by a
//! conditional update), a quote accepted twice (unique `quote_id`), a listing edited or a
//! deal moved by anyone but its parties, a non-published listing shown to the public,
//! a late index write replacing a newer one (versions, see [`crate::ports::search`]).
//!
//! Lock order on PostgreSQL: quote, then listing (accept); deal, then listing (cancel).

pub mod certificates;
pub mod credit_code;
pub mod deals;
pub mod demands;
pub mod engagement;
pub mod inquiries;
pub mod jobs;
pub mod listings;
pub mod merchants;
pub mod product_types;
pub mod search;
pub mod stats;
mod views;

pub use views::*;

/// Reasons administrators give (rejection, take-down): 1–500 characters.
pub(crate) mod reasons {
    use crate::{error::Result, validate::Check};

    /// The trimmed reason, or 422.
    pub fn check(reason: &str) -> Result<String> {
        let mut check = Check::new();
        let reason = check.text("reason", reason, 1, 500);
        check.finish()?;
        Ok(reason)
    }
}

/// An administrator's reason (rejection, take-down), which the merchant or applicant sees.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Why, 1–500 characters.
    pub reason: String,
}
