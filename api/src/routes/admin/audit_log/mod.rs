//! `/v1/admin/audit-log`: who did what to which object, for super administrators.

pub mod list;

use actix_web::web;
use wufei_domain::audit::AuditEntry;

/// A page of the audit log.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub items: Vec<AuditEntry>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}

/// Registers this folder's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/audit-log").route(web::get().to(list::list)));
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list::list))]
pub struct Api;
