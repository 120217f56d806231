//! `GET /v1/admin/articles/columns`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    disclosure::articles::columns::{self, ColumnView},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// The columns the administrator looks after, stalest first: each one's age against its
/// limit (news two weeks, notices and policies six months).
#[utoipa::path(get, path = "/v1/admin/articles/columns", tag = "admin", security(("bearer" = [])),
    responses(
    (status = 200, body = Vec<ColumnView>),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not an administrator", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn columns(platform: web::Data<Platform>, auth: Auth) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(columns::for_admin(&platform.db, &auth.0, chrono::Utc::now()).await?))
}
