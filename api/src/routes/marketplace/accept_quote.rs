//! `POST /v1/market/quotes/{id}/accept`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    marketplace::{DealView, deals},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// The buyer accepts a quote in force: a deal, the stock taken (409 `insufficient_stock` if it is gone).
#[utoipa::path(post, path = "/v1/market/quotes/{id}/accept", tag = "marketplace", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "quote id"), ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 201, body = DealView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or not the right party)", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict (see the code)", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn accept_quote(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let value = deals::accept(&platform.db, &auth.0, id.into_inner()).await?;
    Ok(HttpResponse::Created().json(value))
}
