//! `GET /v1/admin/users/{id}`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    auth::admin::{self, AccountView},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// One account the administrator manages.
#[utoipa::path(get, path = "/v1/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "account id")),
    responses(
    (status = 200, body = AccountView),
    (status = 400, description = "malformed request", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, district, or your own account)", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "not found, or not an account you manage", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn get(
    platform: web::Data<Platform>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(admin::get(&platform.db, &auth.0, id.into_inner()).await?))
}
