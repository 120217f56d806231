//! `GET /v1/admin/pickups`.

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};
use actix_web::{HttpResponse, web};
use wufei_domain::Platform;
use wufei_domain::pickups::work::{self, MonitorQuery};

/// The pickup monitor: pickups of the caller's districts; `manual=true` is the manual-dispatch queue.
#[utoipa::path(get, path = "/v1/admin/pickups", tag = "admin", security(("bearer" = [])),
    params(MonitorQuery),
    responses(
    (status = 200, body = crate::routes::pickups::PickupPage),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn pickups(
    platform: web::Data<Platform>,
    auth: Auth,
    query: web::Query<MonitorQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(work::monitor(&platform.db, &auth.0, query.into_inner()).await?))
}
