//! `POST /v1/admin/stats/rebuild`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    stats::rollups::{self, Rebuilt},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Recomputes every statistics rollup from the recycling and points ledgers, holding off
/// the writers meanwhile (they add to the rebuilt rows after). Super administrators;
/// audited.
#[utoipa::path(post, path = "/v1/admin/stats/rebuild", tag = "admin", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 200, body = Rebuilt),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not a super administrator", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn rebuild(platform: web::Data<Platform>, auth: Auth) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(rollups::rebuild(&platform.db, &auth.0).await?))
}
