//! `GET /v1/suggestions`.

use actix_web::{HttpRequest, HttpResponse, web};
use wufei_domain::{
    Platform,
    paging::PageQuery,
    voice::suggestions::{self, SuggestionFilter},
};

use super::SuggestionPage;
use crate::{
    cache::public_json,
    problem::{ApiError, Problem},
};

/// Published suggestions with their replies, newest first.
#[utoipa::path(get, path = "/v1/suggestions", tag = "disclosure",
    params(SuggestionFilter, PageQuery),
    responses(
    (status = 200, body = SuggestionPage, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "`If-None-Match` names the current ETag"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn list_suggestions(
    req: HttpRequest,
    platform: web::Data<Platform>,
    filter: web::Query<SuggestionFilter>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.parse()?;
    Ok(public_json(
        &req,
        &suggestions::list_public(&platform.db, &filter, page).await?,
    ))
}
