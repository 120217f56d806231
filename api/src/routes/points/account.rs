//! `GET /v1/points/account`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    auth::Role,
    ledger::views::{self, PointsAccount},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// The caller's points balance and what expires when (residents).
#[utoipa::path(get, path = "/v1/points/account", tag = "points", security(("bearer" = [])),
    responses(
        (status = 200, body = PointsAccount),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not a resident", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn account(platform: web::Data<Platform>, auth: Auth) -> Result<HttpResponse, ApiError> {
    auth.0.require_role(&[Role::Resident])?;
    Ok(HttpResponse::Ok().json(views::points_account(&platform.db, auth.0.user_id).await?))
}
