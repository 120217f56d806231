//! `GET /v1/mall/redemptions/{id}`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    mall::{RedemptionView, redemptions},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// One of the caller's redemptions (anyone else's is 404).
#[utoipa::path(get, path = "/v1/mall/redemptions/{id}", tag = "mall", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "redemption id")),
    responses(
    (status = 200, body = RedemptionView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id, redemption_id = %id))]
pub async fn get_redemption(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(redemptions::get_mine(&platform.db, &auth.0, id.into_inner()).await?))
}
