//! `POST /v1/admin/facilities`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    disclosure::facilities::{self, FacilityInput, FacilityView},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Adds a facility of the administrator's district (super administrators: any). Audited.
#[utoipa::path(post, path = "/v1/admin/facilities", tag = "admin", security(("bearer" = [])), request_body = FacilityInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses(
    (status = 201, body = FacilityView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or district)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn create_facility(
    platform: web::Data<Platform>,
    auth: Auth,
    body: web::Json<FacilityInput>,
) -> Result<HttpResponse, ApiError> {
    let value = facilities::create(&platform.db, &auth.0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(value))
}
