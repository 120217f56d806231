//! `GET /v1/articles`.

use actix_web::{HttpRequest, HttpResponse, web};
use wufei_domain::{
    Platform,
    disclosure::articles::{self, ArticlePage, ArticleQuery},
};

use crate::{
    cache::public_json,
    problem::{ApiError, Problem},
};

/// Published articles by column and district, newest first; with `q`, Chinese keyword
/// search (best match first) through the search engine.
#[utoipa::path(get, path = "/v1/articles", tag = "disclosure",
    params(ArticleQuery),
    responses(
    (status = 200, body = ArticlePage, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "`If-None-Match` names the current ETag"),
    (status = 400, description = "malformed query", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json"),
    (status = 503, description = "search unavailable (with `q`)", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn list_articles(
    req: HttpRequest,
    platform: web::Data<Platform>,
    query: web::Query<ArticleQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = articles::list(&platform.db, platform.search.as_ref(), &query).await?;
    Ok(public_json(&req, &page))
}
