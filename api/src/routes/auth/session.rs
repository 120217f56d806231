//! `GET /v1/auth/session`.

use actix_web::HttpResponse;
use serde::Serialize;
use uuid::Uuid;
use wufei_domain::auth::{AdminScope, Role};

use crate::{extract::Auth, problem::Problem};

/// What the access token says about its holder.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Session {
    /// User id.
    pub user_id: Uuid,
    /// Role.
    pub role: Role,
    /// Administrators: scope.
    pub admin_scope: Option<AdminScope>,
    /// District of a scoped account.
    pub district_code: Option<String>,
}

/// Answers from the access token alone, without touching the database: clients use it to
/// check that a stored token is still good.
#[utoipa::path(get, path = "/v1/auth/session", tag = "auth", security(("bearer" = [])), responses(
    (status = 200, body = Session),
    (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn session(auth: Auth) -> HttpResponse {
    let p = auth.0;
    HttpResponse::Ok().json(Session {
        user_id: p.user_id,
        role: p.role,
        admin_scope: p.admin_scope,
        district_code: p.district_code,
    })
}
