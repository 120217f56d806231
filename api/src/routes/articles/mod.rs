//! `/v1/articles` and `/v1/attachments`: the disclosure column's articles (政策文件, 通知公告,
//! 工作动态, 无废细胞风采, 科普宣传) and their PDF attachments, public without sign-in.

pub mod attachment;
pub mod columns;
pub mod get;
pub mod list;

use actix_web::{middleware::from_fn, web};

use crate::cache::cached;

/// Registers the public article routes (`columns` before `{id}`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/articles").route(web::get().to(list::list_articles).wrap(from_fn(cached))),
    )
    .service(
        web::resource("/articles/columns")
            .route(web::get().to(columns::columns).wrap(from_fn(cached))),
    )
    .service(
        web::resource("/articles/{id}")
            .route(web::get().to(get::get_article).wrap(from_fn(cached))),
    )
    .service(web::resource("/attachments/{id}").route(web::get().to(attachment::attachment)));
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list::list_articles,
    columns::columns,
    get::get_article,
    attachment::attachment
))]
pub struct Api;
