//! `POST /v1/market/listings/{id}/inquiries`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    marketplace::{InquiryView, inquiries},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Opens an inquiry on another merchant's published listing.
#[utoipa::path(post, path = "/v1/market/listings/{id}/inquiries", tag = "marketplace", security(("bearer" = [])), request_body = inquiries::NewInquiry,
    params(("id" = Uuid, Path, description = "listing id"), ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 201, body = InquiryView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or not the right party)", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn open_inquiry(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<inquiries::NewInquiry>,
) -> Result<HttpResponse, ApiError> {
    let value = inquiries::open(&platform.db, &auth.0, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(value))
}
