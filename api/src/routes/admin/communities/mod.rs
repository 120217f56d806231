//! `/v1/admin/communities`: communities inside districts.

pub mod create;

use actix_web::web;

/// Registers the community administration routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/communities").route(web::post().to(create::create)));
}
