//! `POST /v1/admin/suggestions/{id}/reject`.

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

/// The body of `reject`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// Why, 1–500 characters (the sender reads it).
    pub reason: String,
}

/// Refuses a pending suggestion with a reason its sender reads. Audited.
#[utoipa::path(post, path = "/v1/admin/suggestions/{id}/reject", tag = "admin", security(("bearer" = [])), request_body = RejectBody,
    params(("id" = Uuid, Path, description = "suggestion id"), ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 200, body = SuggestionView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or district)", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict (see the code)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn reject(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<RejectBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let value = suggestions::moderate(
        &platform.db,
        &auth.0,
        id.into_inner(),
        Moderation::Reject {
            reason: body.reason,
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(value))
}
