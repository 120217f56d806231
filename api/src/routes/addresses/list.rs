//! `GET /v1/me/addresses`.

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};
use actix_web::{HttpResponse, web};
use wufei_domain::Platform;
use wufei_domain::pickups::addresses::{self, AddressView};

/// The caller's saved addresses.
#[utoipa::path(get, path = "/v1/me/addresses", tag = "addresses", security(("bearer" = [])),
    responses(
    (status = 200, body = Vec<AddressView>),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn list(platform: web::Data<Platform>, auth: Auth) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(addresses::list(&platform.db, &auth.0).await?))
}
