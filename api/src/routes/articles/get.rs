//! `GET /v1/articles/{id}`.

use actix_web::{HttpRequest, HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    disclosure::articles::{self, ArticleView},
};

use crate::{
    cache::public_json,
    problem::{ApiError, Problem},
};

/// A published article: its sanitised HTML body and its attachments.
#[utoipa::path(get, path = "/v1/articles/{id}", tag = "disclosure",
    params(("id" = Uuid, Path, description = "article id")),
    responses(
    (status = 200, body = ArticleView, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "`If-None-Match` names the current ETag"),
    (status = 400, description = "malformed id", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "no such published article", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn get_article(
    req: HttpRequest,
    platform: web::Data<Platform>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(public_json(
        &req,
        &articles::get(&platform.db, id.into_inner()).await?,
    ))
}
