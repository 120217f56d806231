//! `PATCH /v1/admin/users/{id}`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    auth::admin::{self, Acted, Action, RoleChange},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Changes a staff account's role, administrator scope or district. District
/// administrators keep staff in their district and appoint no administrators. The
/// account's sessions end at once (the new role comes with its next sign-in). Audited.
#[utoipa::path(patch, path = "/v1/admin/users/{id}", tag = "admin", security(("bearer" = [])), request_body = RoleChange,
    params(("id" = Uuid, Path, description = "account id")),
    responses(
    (status = 200, body = Acted),
    (status = 400, description = "malformed request", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, district, or your own account)", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not an account you manage", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn update(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<RoleChange>,
) -> Result<HttpResponse, ApiError> {
    let acted = admin::act(
        &platform.db,
        platform.generations.as_ref(),
        &auth.0,
        id.into_inner(),
        Action::ChangeRole(body.into_inner()),
    )
    .await?;
    Ok(HttpResponse::Ok().json(acted))
}
