//! `PATCH /v1/admin/articles/{id}`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    disclosure::articles::{self, ArticlePatch, ArticleView},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Changes a draft, an article pending review, or a withdrawn one (which becomes a draft
/// again); a published article is withdrawn first (409 `withdraw_first`). The caller becomes
/// its last editor and so cannot publish it. Audited.
#[utoipa::path(patch, path = "/v1/admin/articles/{id}", tag = "admin", security(("bearer" = [])), request_body = ArticlePatch,
    params(("id" = Uuid, Path, description = "article id")),
    responses(
    (status = 200, body = ArticleView),
    (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict (see the code)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn update(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<ArticlePatch>,
) -> Result<HttpResponse, ApiError> {
    let value = articles::update(&platform.db, &auth.0, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(value))
}
