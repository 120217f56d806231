//! `GET /v1/suggestions/{id}`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    voice::suggestions::{self, SuggestionView},
};

use crate::{
    extract::MaybeAuth,
    problem::{ApiError, Problem},
};

/// One suggestion: a published one for anyone; its sender and its moderators read it in
/// any state, with the text as sent, the contact and the reason.
#[utoipa::path(get, path = "/v1/suggestions/{id}", tag = "disclosure", security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "suggestion id")),
    responses(
    (status = 200, body = SuggestionView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn get_suggestion(
    platform: web::Data<Platform>,
    auth: MaybeAuth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let value = suggestions::get(&platform.db, auth.0.as_ref(), id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(value))
}
