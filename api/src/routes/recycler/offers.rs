//! `GET /v1/recycler/offers`.

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};
use actix_web::{HttpResponse, web};
use wufei_domain::Platform;
use wufei_domain::pickups::work::{self, OfferView};

/// The caller's open offers.
#[utoipa::path(get, path = "/v1/recycler/offers", tag = "recycler", security(("bearer" = [])),
    responses(
    (status = 200, body = Vec<OfferView>),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn offers(platform: web::Data<Platform>, auth: Auth) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(work::open_offers(&platform.db, &auth.0).await?))
}
