//! `GET /v1/cells`.

use actix_web::{HttpRequest, HttpResponse, web};
use wufei_domain::{
    Platform,
    disclosure::cells::{self, CellFilter},
    paging::PageQuery,
};

use super::CellPage;
use crate::{
    cache::public_json,
    problem::{ApiError, Problem},
};

/// Published zero-waste cells (无废细胞), newest first, by kind and district.
#[utoipa::path(get, path = "/v1/cells", tag = "disclosure",
    params(CellFilter, PageQuery),
    responses(
    (status = 200, body = CellPage, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "`If-None-Match` names the current ETag"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn list_cells(
    req: HttpRequest,
    platform: web::Data<Platform>,
    filter: web::Query<CellFilter>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.parse()?;
    Ok(public_json(
        &req,
        &cells::list(&platform.db, &filter, page).await?,
    ))
}
