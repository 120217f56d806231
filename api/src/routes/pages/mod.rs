//! The public pages (信息公开 and 再生产品供求 for people, not programs): Chinese HTML
//! rendered on the server at `/`, beside the JSON API under `/v1`. Each page calls the same
//! domain functions as the public `/v1` route it mirrors, never the API over HTTP; its
//! template (`api/templates/pages/`) is checked at compile time and escapes by default.
//!
//! What they must never do: need JavaScript, load anything from another host (map tiles
//! only when `WUFEI_MAP_TILE_URL` names a tile server), answer a bad query string with a
//! 5xx, or put text from a request or the database into a page unescaped. They are not
//! part of the OpenAPI document. Design notes: `docs/pages.md`.

pub mod articles;
pub mod assets;
pub mod cells;
pub mod charts;
pub mod display;
pub mod facilities;
pub mod indicators;
pub mod labels;
pub mod lists;
pub mod map;
pub mod market;
pub mod render;
pub mod seo;
pub mod stats;
pub mod suggestions;
pub mod tasks;

use actix_web::web;

/// Every page: its path and its handler (`GET`, and `HEAD` for link checkers).
macro_rules! pages {
    ($cfg:ident, $($path:literal => $handler:path),* $(,)?) => {
        $( $cfg.service(
            web::resource($path)
                .route(web::get().to($handler))
                .route(web::head().to($handler)),
        ); )*
    };
}

/// Pages whose data changes only through administrators' writes: their anonymous GETs are
/// kept by the public cache like the `/v1` answers they mirror (`crate::cache::cached`).
macro_rules! cached_pages {
    ($cfg:ident, $($path:literal => $handler:path),* $(,)?) => {
        $( $cfg.service(
            web::resource($path)
                .route(
                    web::get()
                        .to($handler)
                        .wrap(actix_web::middleware::from_fn(crate::cache::cached)),
                )
                .route(web::head().to($handler)),
        ); )*
    };
}

/// Registers the pages at the root.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cached_pages!(cfg,
        "/articles" => articles::list,
        "/articles/{id}" => articles::one,
        "/tasks" => tasks::board,
        "/cells" => cells::list,
        "/cells/{id}" => cells::one,
        "/facilities" => facilities::list,
        "/facilities/{id}" => facilities::one,
    );
    pages!(cfg,
        "/" => stats::home,
        "/indicators" => indicators::list,
        "/indicators/{code}" => indicators::one,
        "/stats" => stats::stats,
        "/open-data" => stats::open_data,
        "/market" => market::search,
        "/market/listings/{id}" => market::listing,
        "/market/merchants/{id}" => market::merchant,
        "/market/demands" => market::demands,
        "/sitemap.xml" => seo::sitemap,
        "/robots.txt" => seo::robots,
        "/assets/{name}" => assets::serve,
    );
    cfg.service(
        web::resource("/suggestions")
            .route(web::get().to(suggestions::list))
            .route(web::post().to(suggestions::send)),
    )
    .service(web::resource("/display").route(web::post().to(display::switch)));
}
