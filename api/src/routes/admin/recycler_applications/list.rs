//! `GET /v1/admin/recycler-applications`.

use actix_web::{HttpResponse, web};
use wufei_domain::Platform;
use wufei_domain::{paging::PageQuery, recyclers};

use super::{ApplicationQuery, RecyclerPage};
use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Recycler applications (district administrators: those naming their district).
#[utoipa::path(get, path = "/v1/admin/recycler-applications", tag = "admin", security(("bearer" = [])),
    params(ApplicationQuery),
    responses(
    (status = 200, body = RecyclerPage),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn applications(
    platform: web::Data<Platform>,
    auth: Auth,
    query: web::Query<ApplicationQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor.clone(),
    }
    .parse()?;
    Ok(HttpResponse::Ok().json(
        recyclers::list_for_admin(&platform.db, &auth.0, query.status.as_deref(), page).await?,
    ))
}
