//! `PATCH /v1/me/addresses/{id}`.

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};
use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::Platform;
use wufei_domain::pickups::addresses::{self, AddressPatch, AddressView};

/// Changes one of the caller's addresses.
#[utoipa::path(patch, path = "/v1/me/addresses/{id}", tag = "addresses", security(("bearer" = [])), request_body = AddressPatch,
    params(("id" = Uuid, Path, description = "address id")),
    responses(
    (status = 200, body = AddressView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn update(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<AddressPatch>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(addresses::update(&platform.db, &auth.0, id.into_inner(), body.into_inner()).await?))
}
