//! `GET /v1/admin/articles`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    disclosure::articles::{self, ArticlePage, ArticleQuery},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// The articles the administrator administers (district administrators: their district's),
/// newest change first, by state, column and district (`q` is the public list's).
#[utoipa::path(get, path = "/v1/admin/articles", tag = "admin", security(("bearer" = [])),
    params(ArticleQuery),
    responses(
    (status = 200, body = ArticlePage),
    (status = 400, description = "malformed query", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn list(
    platform: web::Data<Platform>,
    auth: Auth,
    query: web::Query<ArticleQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(articles::list_for_admin(&platform.db, &auth.0, &query).await?))
}
