//! `POST /v1/admin/users/{id}/suspend`, `…/reinstate`, `…/revoke-sessions`,
//! `…/reset-password`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    auth::admin::{self, Acted, Action},
    marketplace::Reason,
};

use crate::{
    extract::{Auth, optional_json},
    problem::{ApiError, Problem},
};

/// A new password for a staff account (optional: without one, a password is generated and
/// shown once in the answer).
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    /// 8–128 characters, not digits only.
    #[schema(min_length = 8, max_length = 128)]
    pub password: Option<String>,
}

async fn act(
    platform: &Platform,
    auth: &Auth,
    id: Uuid,
    action: Action,
) -> Result<HttpResponse, ApiError> {
    let acted = admin::act(
        &platform.db,
        platform.generations.as_ref(),
        &auth.0,
        id,
        action,
    )
    .await?;
    Ok(HttpResponse::Ok().json(acted))
}

/// Suspends an account with a reason: it can no longer sign in or refresh, and its access
/// tokens stop working at once on every server. Audited.
#[utoipa::path(post, path = "/v1/admin/users/{id}/suspend", tag = "admin", security(("bearer" = [])), request_body = Reason,
    params(("id" = Uuid, Path, description = "account id"), ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 200, body = Acted),
    (status = 400, description = "malformed request", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, district, or your own account)", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not an account you manage", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "already suspended", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn suspend(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<Reason>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.into_inner().reason;
    act(
        &platform,
        &auth,
        id.into_inner(),
        Action::Suspend { reason },
    )
    .await
}

/// Lifts a suspension (the sessions it ended stay ended). Audited.
#[utoipa::path(post, path = "/v1/admin/users/{id}/reinstate", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "account id"), ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 200, body = Acted),
    (status = 400, description = "malformed request", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, district, or your own account)", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not an account you manage", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "not suspended", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn reinstate(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    act(&platform, &auth, id.into_inner(), Action::Reinstate).await
}

/// Ends every session of an account: its refresh tokens, and its access tokens at once on
/// every server. Audited.
#[utoipa::path(post, path = "/v1/admin/users/{id}/revoke-sessions", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "account id"), ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 200, body = Acted),
    (status = 400, description = "malformed request", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, district, or your own account)", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not an account you manage", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn revoke_sessions(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    act(&platform, &auth, id.into_inner(), Action::EndSessions).await
}

/// Sets a staff account's password (generated and shown once when none is sent) and ends
/// its sessions. Audited, without the password.
#[utoipa::path(post, path = "/v1/admin/users/{id}/reset-password", tag = "admin", security(("bearer" = [])), request_body(content = Option<NewPassword>, description = "optional"),
    params(("id" = Uuid, Path, description = "account id"), ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 200, body = Acted),
    (status = 400, description = "malformed request", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, district, or your own account)", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not an account you manage", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input (a weak password, a resident's account)", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn reset_password(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: NewPassword = optional_json(&body)?;
    act(
        &platform,
        &auth,
        id.into_inner(),
        Action::ResetPassword {
            password: body.password,
        },
    )
    .await
}
