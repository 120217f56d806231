//! `GET /v1/points/entries`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    auth::Role,
    ledger::{AccountRef, views},
    paging::PageQuery,
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// A page of ledger lines.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct EntryPage {
    /// Newest first.
    pub items: Vec<views::Entry>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}

/// The caller's ledger lines, newest first: one per transaction, signed (residents).
#[utoipa::path(get, path = "/v1/points/entries", tag = "points", security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, body = EntryPage),
        (status = 400, description = "malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not a resident", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "limit out of range or bad cursor", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn entries(
    platform: web::Data<Platform>,
    auth: Auth,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require_role(&[Role::Resident])?;
    let page = query.parse()?;
    let key = AccountRef::resident(auth.0.user_id).key;
    Ok(HttpResponse::Ok().json(views::entries(&platform.db, &key, page).await?))
}
