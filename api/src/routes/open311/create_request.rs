//! `POST /open311/v2/requests.json`.

use actix_web::{HttpRequest, HttpResponse, web};
use wufei_domain::{
    Platform,
    voice::{
        open311::{Created, NOTICE, NewRequest},
        suggestions,
    },
};

use crate::{
    extract::MaybeAuth,
    middleware::client_addr,
    problem::{ApiError, Problem},
};

/// Creates a request (a suggestion, moderated before it is public), form-encoded as
/// GeoReport v2 sends it; throttled like `POST /v1/suggestions`.
#[utoipa::path(post, path = "/open311/v2/requests.json", tag = "open311", security((), ("bearer" = [])),
    request_body(content = NewRequest, content_type = "application/x-www-form-urlencoded"),
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 201, body = Vec<Created>),
    (status = 400, description = "not a form", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "not form-encoded", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "too many suggestions from this client or account; see Retry-After", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn create_request(
    req: HttpRequest,
    platform: web::Data<Platform>,
    auth: MaybeAuth,
    form: web::Form<NewRequest>,
) -> Result<HttpResponse, ApiError> {
    let client = client_addr(&req, platform.settings.trust_forwarded_for);
    let new = form.into_inner().into_suggestion()?;
    let made = suggestions::submit(
        &platform.db,
        platform.limiter.as_ref(),
        auth.0.as_ref(),
        &client,
        new,
    )
    .await?;
    Ok(HttpResponse::Created().json([Created {
        service_request_id: made.id,
        service_notice: NOTICE,
        account_id: None,
    }]))
}
