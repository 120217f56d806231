//! `/v1/admin`: administration.

pub mod applications;
pub mod approve;
pub mod assign;
pub mod pickups;
pub mod reject;

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
