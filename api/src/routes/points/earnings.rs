//! `GET /v1/recycler/earnings`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use wufei_domain::{
    Platform,
    auth::Role,
    points::earnings::{self, Earnings},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Query of the earnings view.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct EarningsQuery {
    /// Days of statements, 1 to 92 (default 30).
    pub days: Option<u32>,
}

/// The recycler's earnings balance and daily statements, newest first.
#[utoipa::path(get, path = "/v1/recycler/earnings", tag = "recycler", security(("bearer" = [])),
    params(EarningsQuery),
    responses(
        (status = 200, body = Earnings),
        (status = 400, description = "malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not a recycler", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "days out of range", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn earnings(
    platform: web::Data<Platform>,
    auth: Auth,
    query: web::Query<EarningsQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require_role(&[Role::Recycler])?;
    let days = query.days.unwrap_or(30);
    Ok(HttpResponse::Ok().json(earnings::earnings(&platform.db, auth.0.user_id, days).await?))
}
