//! `POST /v1/market/listings/{id}/certificates`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    marketplace::{CertificateView, certificates},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Attaches a quality certificate to the caller's listing; the `certified` and `procurement_ready` badges follow.
#[utoipa::path(post, path = "/v1/market/listings/{id}/certificates", tag = "marketplace", security(("bearer" = [])), request_body = certificates::NewCertificate,
    params(("id" = Uuid, Path, description = "listing id"), ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 201, body = CertificateView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or not the right party)", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict (see the code)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn add_certificate(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<certificates::NewCertificate>,
) -> Result<HttpResponse, ApiError> {
    let value =
        certificates::add(&platform.db, &auth.0, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(value))
}
