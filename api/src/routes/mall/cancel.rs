//! `POST /v1/mall/redemptions/{id}/cancel`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform, ledger,
    mall::{RedemptionView, redemptions},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Cancels one of the caller's reserved redemptions: points refunded, stock and
/// per-person limit given back. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/mall/redemptions/{id}/cancel", tag = "mall", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "redemption id"),
        ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key")),
    responses(
    (status = 200, body = RedemptionView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`already_cancelled` or `already_fulfilled`", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id, redemption_id = %id))]
pub async fn cancel(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let rules = ledger::Rules::from_settings(&platform.settings);
    Ok(HttpResponse::Ok()
        .json(redemptions::cancel(&platform.db, &rules, &auth.0, id.into_inner()).await?))
}
