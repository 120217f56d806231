//! `POST /v1/admin/articles`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    disclosure::articles::{self, ArticleView, NewArticle},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Writes an article as a draft. The body is Markdown (HTML allowed) and is cleaned: script,
/// event handlers, `javascript:` links and images from other hosts never survive. District
/// administrators write for their district; city-wide articles are the city-wide
/// administrators'. Audited.
#[utoipa::path(post, path = "/v1/admin/articles", tag = "admin", security(("bearer" = [])), request_body = NewArticle,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 201, body = ArticleView),
    (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or district)", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict (see the code)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn create(
    platform: web::Data<Platform>,
    auth: Auth,
    body: web::Json<NewArticle>,
) -> Result<HttpResponse, ApiError> {
    let value = articles::create(&platform.db, &auth.0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(value))
}
