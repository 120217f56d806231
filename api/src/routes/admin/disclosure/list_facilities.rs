//! `GET /v1/admin/facilities`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    disclosure::facilities::{self, FacilityView},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// The facilities of the administrator's district (super administrators: all), hidden ones
/// too, by name.
#[utoipa::path(get, path = "/v1/admin/facilities", tag = "admin", security(("bearer" = [])),
    responses(
    (status = 200, body = Vec<FacilityView>),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or district)", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn list_facilities(
    platform: web::Data<Platform>,
    auth: Auth,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(facilities::list_for_admin(&platform.db, &auth.0).await?))
}
