//! `POST /v1/market/inquiries/{id}/quotes`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    marketplace::{QuoteView, inquiries},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// The supplier quotes on an open inquiry; an earlier open quote is withdrawn.
#[utoipa::path(post, path = "/v1/market/inquiries/{id}/quotes", tag = "marketplace", security(("bearer" = [])), request_body = inquiries::NewQuote,
    params(("id" = Uuid, Path, description = "inquiry id"), ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 201, body = QuoteView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or not the right party)", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict (see the code)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn make_quote(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<inquiries::NewQuote>,
) -> Result<HttpResponse, ApiError> {
    let value = inquiries::quote(&platform.db, &auth.0, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(value))
}
