//! `GET /v1/points/qr-token`.

use actix_web::{HttpResponse, web};
use wufei_domain::{Platform, auth::Role, auth::tokens::QrToken};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// A short-lived signed token naming the resident, to show to a smart device as a QR code
/// (residents only). It is not an access token and an access token is not one.
#[utoipa::path(get, path = "/v1/points/qr-token", tag = "points", security(("bearer" = [])), responses(
    (status = 200, body = QrToken),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not a resident", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn qr_token(platform: web::Data<Platform>, auth: Auth) -> Result<HttpResponse, ApiError> {
    auth.0.require_role(&[Role::Resident])?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(platform.auth.keys().issue_qr(auth.0.user_id)?))
}
