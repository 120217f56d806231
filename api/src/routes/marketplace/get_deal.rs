//! `GET /v1/market/deals/{id}`.

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

/// One deal: its two parties and administrators only.
#[utoipa::path(get, path = "/v1/market/deals/{id}", tag = "marketplace", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "deal id")),
    responses(
    (status = 200, body = DealView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn get_deal(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let value = deals::get(&platform.db, &auth.0, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(value))
}
