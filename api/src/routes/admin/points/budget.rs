//! `POST /v1/admin/points/budgets`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    points::admin::{self, BudgetInput, TransactionView},
};

use crate::{
    extract::Admin,
    problem::{ApiError, Problem},
};

/// Adds points to a district's programme budget (city-wide administrators).
/// `Idempotency-Key` honoured.
#[utoipa::path(post, path = "/v1/admin/points/budgets", tag = "admin", security(("bearer" = [])),
    request_body = BudgetInput,
    responses(
        (status = 201, body = TransactionView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not a city-wide administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %who.0.user_id))]
pub async fn budget(
    platform: web::Data<Platform>,
    who: Admin,
    body: web::Json<BudgetInput>,
) -> Result<HttpResponse, ApiError> {
    let rules = platform.ledger_rules();
    let t = admin::grant_budget(&platform.db, &rules, &who.0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(t))
}
