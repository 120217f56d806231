//! `POST /v1/admin/suggestions/{id}/reply`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    voice::suggestions::{self, Moderation, SuggestionView},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// The body of `reply`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    /// The reply, 1–2000 characters.
    pub text: String,
    /// The replying unit (e.g. 市城市管理局), up to 64 characters.
    pub unit: Option<String>,
}

/// Replies to a published suggestion (or replaces the reply); it becomes `closed` in Open311. Audited; a signed-in sender is told.
#[utoipa::path(post, path = "/v1/admin/suggestions/{id}/reply", tag = "admin", security(("bearer" = [])), request_body = ReplyBody,
    params(("id" = Uuid, Path, description = "suggestion id"), ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 200, body = SuggestionView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or district)", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict (see the code)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn reply(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<ReplyBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let value = suggestions::moderate(
        &platform.db,
        &auth.0,
        id.into_inner(),
        Moderation::Reply {
            text: body.text,
            unit: body.unit,
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(value))
}
