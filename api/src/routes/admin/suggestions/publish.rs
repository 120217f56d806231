//! `POST /v1/admin/suggestions/{id}/publish`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    voice::suggestions::{self, Moderation, SuggestionView},
};

use crate::{
    extract::{Auth, optional_json},
    problem::{ApiError, Problem},
};

/// The body of `publish`.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    /// Replaces the public text (masked again), 5–2000 characters.
    pub public_text: Option<String>,
}

/// Publishes a pending suggestion (its text with personal data masked). Audited; a signed-in sender is told.
#[utoipa::path(post, path = "/v1/admin/suggestions/{id}/publish", tag = "admin", security(("bearer" = [])), request_body(content = Option<PublishBody>, description = "optional"),
    params(("id" = Uuid, Path, description = "suggestion id"), ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 200, body = SuggestionView),
    (status = 400, description = "malformed body", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or district)", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict (see the code)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn publish(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    // The body is optional: none publishes the masked text as it is.
    let body: PublishBody = optional_json(&body)?;
    let value = suggestions::moderate(
        &platform.db,
        &auth.0,
        id.into_inner(),
        Moderation::Publish {
            public_text: body.public_text,
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(value))
}
