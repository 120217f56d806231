//! `POST /v1/suggestions`.

use actix_web::{HttpRequest, HttpResponse, web};
use wufei_domain::{
    Platform,
    voice::suggestions::{self, NewSuggestion, SuggestionView},
};

use crate::{
    extract::MaybeAuth,
    middleware::client_addr,
    problem::{ApiError, Problem},
};

/// Sends a suggestion (意见建议), signed in or anonymously. It is public once a moderator
/// publishes it, with phone numbers, identity numbers and e-mail addresses masked; the
/// contact is never public. Anonymous senders may send 5 an hour per client, signed-in
/// accounts 20.
#[utoipa::path(post, path = "/v1/suggestions", tag = "disclosure", security((), ("bearer" = [])), request_body = NewSuggestion,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 201, body = SuggestionView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "too many suggestions from this client or account; see Retry-After", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn submit(
    req: HttpRequest,
    platform: web::Data<Platform>,
    auth: MaybeAuth,
    body: web::Json<NewSuggestion>,
) -> Result<HttpResponse, ApiError> {
    let client = client_addr(&req, platform.settings.trust_forwarded_for);
    let value = suggestions::submit(
        &platform.db,
        platform.limiter.as_ref(),
        auth.0.as_ref(),
        &client,
        body.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Created().json(value))
}
