//! `POST /v1/admin/market/product-types`.

use actix_web::{HttpResponse, web};
use wufei_domain::{Platform, marketplace::product_types};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Adds a product type (super administrators).
#[utoipa::path(post, path = "/v1/admin/market/product-types", tag = "admin", security(("bearer" = [])), request_body = product_types::NewProductType,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 201, body = product_types::ProductType),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or not the right party)", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "conflict (see the code)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn create_product_type(
    platform: web::Data<Platform>,
    auth: Auth,
    body: web::Json<product_types::NewProductType>,
) -> Result<HttpResponse, ApiError> {
    let value = product_types::create(&platform.db, &auth.0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(value))
}
