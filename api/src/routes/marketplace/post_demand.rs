//! `POST /v1/market/demands`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    marketplace::{DemandView, demands},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Posts a demand (求购). Verified merchants only; matching listings' merchants are told.
#[utoipa::path(post, path = "/v1/market/demands", tag = "marketplace", security(("bearer" = [])), request_body = demands::NewDemand,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 201, body = DemandView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or not the right party)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn post_demand(
    platform: web::Data<Platform>,
    auth: Auth,
    body: web::Json<demands::NewDemand>,
) -> Result<HttpResponse, ApiError> {
    let value = demands::create(&platform.db, &auth.0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(value))
}
