//! `GET /v1/notifications`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use wufei_domain::{
    Platform,
    notifications::inbox::{self, InboxPage},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Query: paging.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Items per page, 1 to 100 (default 20).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The caller's notifications, newest first, with the unread count.
#[utoipa::path(get, path = "/v1/notifications", tag = "notifications", security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, body = InboxPage),
        (status = 400, description = "malformed query or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "limit out of range", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn list(
    platform: web::Data<Platform>,
    auth: Auth,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = inbox::parse_limit(query.limit)?;
    let cursor = inbox::parse_cursor(query.cursor.as_deref())?;
    let page = inbox::list(&platform.db, auth.0.user_id, limit, cursor).await?;
    Ok(HttpResponse::Ok().json(page))
}
