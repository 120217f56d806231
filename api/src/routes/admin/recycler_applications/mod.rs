//! `/v1/admin/recycler-applications`: reviewing recycler applications.

pub mod approve;
pub mod list;
pub mod reject;

use actix_web::web;
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

/// Registers the application review routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admin/recycler-applications").route(web::get().to(list::applications)),
    )
    .service(
        web::resource("/admin/recycler-applications/{id}/approve")
            .route(web::post().to(approve::approve)),
    )
    .service(
        web::resource("/admin/recycler-applications/{id}/reject")
            .route(web::post().to(reject::reject)),
    );
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list::applications, approve::approve, reject::reject,))]
pub struct Api;
