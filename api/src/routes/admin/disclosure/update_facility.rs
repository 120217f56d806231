//! `PATCH /v1/admin/facilities/{id}`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    disclosure::facilities::{self, FacilityPatch, FacilityView},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Changes a facility of the administrator's district: the fields given replace the current
/// ones (`active: false` hides it from the public map). Audited.
#[utoipa::path(patch, path = "/v1/admin/facilities/{id}", tag = "admin", security(("bearer" = [])), request_body = FacilityPatch,
    params(("id" = Uuid, Path, description = "facility id")),
    responses(
    (status = 200, body = FacilityView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or district)", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn update_facility(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<FacilityPatch>,
) -> Result<HttpResponse, ApiError> {
    let value =
        facilities::update(&platform.db, &auth.0, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(value))
}
