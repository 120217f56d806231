//! `POST /v1/me/addresses`.

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};
use actix_web::{HttpResponse, web};
use wufei_domain::Platform;
use wufei_domain::pickups::addresses::{self, AddressInput, AddressView};

/// Saves an address (GCJ-02 coordinates inside the service region; a served district).
#[utoipa::path(post, path = "/v1/me/addresses", tag = "addresses", security(("bearer" = [])), request_body = AddressInput,
    responses(
    (status = 201, body = AddressView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn create(
    platform: web::Data<Platform>,
    auth: Auth,
    body: web::Json<AddressInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created()
        .json(addresses::create(&platform.db, &auth.0, body.into_inner()).await?))
}
