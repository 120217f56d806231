//! `/v1/admin`: administration, scoped by role and district. Each resource registers full
//! paths (`/admin/<resource>`) inside the `/v1` scope rather than an `/admin` scope of its
//! own, so several resources can add admin routes without shadowing each other.

pub mod applications;
pub mod approve;
pub mod assign;
pub mod categories;
pub mod communities;
pub mod devices;
pub mod districts;
pub mod mall_items;
pub mod pickups;
pub mod points;
pub mod reject;
pub mod slot_templates;

use serde::{Deserialize, Serialize};
use wufei_domain::recyclers::RecyclerView;

/// Filters of the applications list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ApplicationQuery {
    /// `pending`, `approved`, `rejected` or `suspended`.
    pub status: Option<String>,
    /// Items per page.
    pub limit: Option<u64>,
    /// Cursor.
    pub cursor: Option<String>,
}

/// A page of applications.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RecyclerPage {
    /// Newest first.
    pub items: Vec<RecyclerView>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}
