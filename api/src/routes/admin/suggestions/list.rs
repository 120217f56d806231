//! `GET /v1/admin/suggestions`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    paging::PageQuery,
    voice::suggestions::{self, ModerationFilter},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
    routes::voice::SuggestionPage,
};

/// Suggestions of the administrator's district (super administrators: all), oldest first,
/// each with its waiting time and whether it is overdue (unanswered over 90 days).
#[utoipa::path(get, path = "/v1/admin/suggestions", tag = "admin", security(("bearer" = [])),
    params(ModerationFilter, PageQuery),
    responses(
    (status = 200, body = SuggestionPage),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed (role, or district)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn list(
    platform: web::Data<Platform>,
    auth: Auth,
    filter: web::Query<ModerationFilter>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.parse()?;
    let value = suggestions::list_for_moderation(&platform.db, &auth.0, &filter, page).await?;
    Ok(HttpResponse::Ok().json(value))
}
