//! `POST /v1/admin/articles/{id}/submit`, `…/publish`, `…/send-back`, `…/withdraw`: the
//! steps of an article's review.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    disclosure::articles::{self, ArticleView, Step},
};

use crate::{
    extract::{Auth, optional_json},
    problem::{ApiError, Problem},
};

/// A note sending an article back to its editor.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendBack {
    /// What to change, 1–500 characters.
    #[schema(min_length = 1, max_length = 500)]
    pub note: String,
}

/// Why an article is withdrawn (optional).
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Withdrawal {
    /// Up to 500 characters.
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

async fn take(
    platform: &Platform,
    auth: &Auth,
    id: Uuid,
    step: Step,
    note: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let value = articles::step(&platform.db, &auth.0, id, step, note).await?;
    Ok(HttpResponse::Ok().json(value))
}

/// Submits a draft for review; the district's administrators are told. Audited.
#[utoipa::path(post, path = "/v1/admin/articles/{id}/submit", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "article id"), ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 200, body = ArticleView),
    (status = 400, description = "malformed id", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "not a draft", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn submit(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    take(&platform, &auth, id.into_inner(), Step::Submit, None).await
}

/// Publishes an article pending review. Only an administrator who neither wrote nor last
/// edited it may (403 otherwise); the author is told. Audited.
#[utoipa::path(post, path = "/v1/admin/articles/{id}/publish", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "article id"), ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 200, body = ArticleView),
    (status = 400, description = "malformed id", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not an administrator, or its own author or last editor", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "not pending review", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn publish(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    take(&platform, &auth, id.into_inner(), Step::Publish, None).await
}

/// Sends an article pending review back to draft with a note its author sees. Audited.
#[utoipa::path(post, path = "/v1/admin/articles/{id}/send-back", tag = "admin", security(("bearer" = [])), request_body = SendBack,
    params(("id" = Uuid, Path, description = "article id"), ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 200, body = ArticleView),
    (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "not pending review", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn send_back(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<SendBack>,
) -> Result<HttpResponse, ApiError> {
    take(
        &platform,
        &auth,
        id.into_inner(),
        Step::SendBack,
        Some(&body.note),
    )
    .await
}

/// Withdraws a published article, with an optional reason. Audited.
#[utoipa::path(post, path = "/v1/admin/articles/{id}/withdraw", tag = "admin", security(("bearer" = [])), request_body(content = Option<Withdrawal>, description = "optional"),
    params(("id" = Uuid, Path, description = "article id"), ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 200, body = ArticleView),
    (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not an administrator", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "not published", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn withdraw(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: Withdrawal = optional_json(&body)?;
    take(
        &platform,
        &auth,
        id.into_inner(),
        Step::Withdraw,
        body.reason.as_deref(),
    )
    .await
}
