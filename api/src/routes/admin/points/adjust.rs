//! `POST /v1/admin/points/adjustments`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    points::admin::{self, AdjustmentInput, TransactionView},
};

use crate::{
    extract::Admin,
    problem::{ApiError, Problem},
};

/// Credits (from a district's budget) or debits a resident's points, with a reason that the
/// resident sees and the audit log keeps. `Idempotency-Key` honoured.
#[utoipa::path(post, path = "/v1/admin/points/adjustments", tag = "admin", security(("bearer" = [])),
    request_body = AdjustmentInput,
    responses(
        (status = 201, body = TransactionView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an administrator of that district", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such resident", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "insufficient_points or budget_exhausted", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %who.0.user_id))]
pub async fn adjust(
    platform: web::Data<Platform>,
    who: Admin,
    body: web::Json<AdjustmentInput>,
) -> Result<HttpResponse, ApiError> {
    let rules = platform.ledger_rules();
    let t = admin::adjust(&platform.db, &rules, &who.0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(t))
}
