//! `GET /v1/market/inquiries/{id}`.

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

/// One inquiry with its messages and quotes: its two parties and administrators only.
#[utoipa::path(get, path = "/v1/market/inquiries/{id}", tag = "marketplace", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "inquiry id")),
    responses(
    (status = 200, body = InquiryView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn get_inquiry(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let value = inquiries::get(&platform.db, &auth.0, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(value))
}
