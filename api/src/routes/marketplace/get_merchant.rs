//! `GET /v1/market/merchants/{id}`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    marketplace::{MerchantProfile, merchants},
};

use crate::problem::{ApiError, Problem};

/// A merchant's public profile. No sign-in needed.
#[utoipa::path(get, path = "/v1/market/merchants/{id}", tag = "marketplace",
    params(("id" = Uuid, Path, description = "merchant id")),
    responses(
    (status = 200, body = MerchantProfile),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn get_merchant(
    platform: web::Data<Platform>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let value = merchants::profile(&platform.db, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(value))
}
