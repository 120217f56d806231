//! The disclosure column (信息公开): the plan's indicators and tasks, zero-waste cells and
//! facilities. Public reads need no sign-in and carry `ETag` and `Cache-Control` (304 on
//! `If-None-Match`); applying for a cell needs a signed-in account.

pub mod apply_cell;
pub mod cell_summary;
pub mod facilities;
pub mod get_cell;
pub mod get_indicator;
pub mod get_task;
pub mod list_cells;
pub mod list_indicators;
pub mod list_tasks;
pub mod my_cells;

use actix_web::{middleware::from_fn, web};
use wufei_domain::disclosure::cells::CellView;

use crate::{cache::cached, idempotency::idempotent};

/// A page of cells.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CellPage {
    /// Newest first.
    pub items: Vec<CellView>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}

/// Registers the disclosure routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/indicators").route(web::get().to(list_indicators::list_indicators)),
    )
    .service(web::resource("/indicators/{code}").route(web::get().to(get_indicator::get_indicator)))
    .service(
        web::resource("/plan/tasks")
            .route(web::get().to(list_tasks::list_tasks).wrap(from_fn(cached))),
    )
    .service(
        web::resource("/plan/tasks/{id}")
            .route(web::get().to(get_task::get_task).wrap(from_fn(cached))),
    )
    .service(
        web::resource("/cells").route(web::get().to(list_cells::list_cells).wrap(from_fn(cached))),
    )
    .service(
        web::resource("/cells/summary").route(
            web::get()
                .to(cell_summary::cell_summary)
                .wrap(from_fn(cached)),
        ),
    )
    .service(
        web::resource("/cells/{id}").route(web::get().to(get_cell::get_cell).wrap(from_fn(cached))),
    )
    .service(
        web::resource("/cell-applications")
            .wrap(from_fn(idempotent))
            .route(web::post().to(apply_cell::apply_cell)),
    )
    .service(web::resource("/cell-applications/mine").route(web::get().to(my_cells::my_cells)))
    .service(
        web::resource("/facilities").route(
            web::get()
                .to(facilities::list_facilities)
                .wrap(from_fn(cached)),
        ),
    );
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_indicators::list_indicators,
    get_indicator::get_indicator,
    list_tasks::list_tasks,
    get_task::get_task,
    list_cells::list_cells,
    cell_summary::cell_summary,
    get_cell::get_cell,
    apply_cell::apply_cell,
    my_cells::my_cells,
    facilities::list_facilities,
))]
pub struct Api;
