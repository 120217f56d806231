//! `POST /v1/admin/indicators/{code}/values`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    disclosure::indicators::{self, IndicatorView, NewValue},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Records (or corrects) a reported indicator's value for a year, with its source.
/// City-wide administrators; audited with the value it replaced.
#[utoipa::path(post, path = "/v1/admin/indicators/{code}/values", tag = "admin", security(("bearer" = [])),
    request_body = NewValue,
    params(("code" = String, Path, description = "indicator code"),
        ("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 200, body = IndicatorView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not a city-wide administrator", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "no such indicator", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "`measured_by_wufei`: computed, not entered", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn record_value(
    platform: web::Data<Platform>,
    auth: Auth,
    code: web::Path<String>,
    body: web::Json<NewValue>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(indicators::record(&platform.db, &auth.0, &code, body.into_inner()).await?))
}
