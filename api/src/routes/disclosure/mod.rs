//! The disclosure column's public reads (信息公开): the plan's indicators and tasks. No
//! sign-in; answers carry `ETag` and `Cache-Control` and revalidate with 304.

pub mod get_indicator;
pub mod get_task;
pub mod list_indicators;
pub mod list_tasks;

use actix_web::web;

/// Registers the disclosure routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/indicators").route(web::get().to(list_indicators::list_indicators)),
    )
    .service(web::resource("/indicators/{code}").route(web::get().to(get_indicator::get_indicator)))
    .service(web::resource("/plan/tasks").route(web::get().to(list_tasks::list_tasks)))
    .service(web::resource("/plan/tasks/{id}").route(web::get().to(get_task::get_task)));
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_indicators::list_indicators,
    get_indicator::get_indicator,
    list_tasks::list_tasks,
    get_task::get_task,
))]
pub struct Api;
