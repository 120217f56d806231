//! `/v1/pickups`: booking and the resident's side of a pickup.

pub mod cancel;
pub mod complaint;
pub mod create;
pub mod dispute;
pub mod get;
pub mod list;
pub mod rating;
pub mod reschedule;

use serde::Serialize;
use wufei_domain::pickups::PickupView;

/// A page of pickups.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PickupPage {
    /// Newest first.
    pub items: Vec<PickupView>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}
