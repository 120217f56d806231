//! `POST /v1/admin/pickups/{id}/dispute/resolve`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    pickups::PickupView,
    points::admin::{self, ResolveInput},
};

use crate::{
    extract::Admin,
    problem::{ApiError, Problem},
};

/// Resolves a weight dispute (administrators of the pickup's district). Upheld with the
/// corrected weigh ticket: on a settled pickup the original settlement is reversed and the
/// corrected one posted; rejected: the recorded weights stand. `Idempotency-Key` honoured.
#[utoipa::path(post, path = "/v1/admin/pickups/{id}/dispute/resolve", tag = "admin", security(("bearer" = [])),
    request_body = ResolveInput,
    params(("id" = Uuid, Path, description = "pickup id")),
    responses(
        (status = 200, body = PickupView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "no_open_dispute, insufficient_balance, budget_exhausted", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %who.0.user_id))]
pub async fn resolve(
    platform: web::Data<Platform>,
    who: Admin,
    id: web::Path<Uuid>,
    body: web::Json<ResolveInput>,
) -> Result<HttpResponse, ApiError> {
    let rules = platform.ledger_rules();
    let v = admin::resolve_dispute(
        &platform.db,
        &rules,
        &who.0,
        id.into_inner(),
        body.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(v))
}
