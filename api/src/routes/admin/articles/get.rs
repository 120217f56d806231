//! `GET /v1/admin/articles/{id}`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    disclosure::articles::{self, ArticleView},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// An article in any state, with its source and review (404 outside the district).
#[utoipa::path(get, path = "/v1/admin/articles/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "article id")),
    responses(
    (status = 200, body = ArticleView),
    (status = 400, description = "malformed id", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn get(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(articles::get_for_admin(&platform.db, &auth.0, id.into_inner()).await?))
}
