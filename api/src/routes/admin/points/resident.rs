//! `GET /v1/admin/points/residents/{id}` and `…/entries`: a resident's points as the
//! resident sees them, for support.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    ledger::{
        AccountRef,
        views::{self, PointsAccount},
    },
    paging::PageQuery,
    points::admin::resident_exists,
};

use crate::{
    extract::Admin,
    problem::{ApiError, Problem},
    routes::points::entries::EntryPage,
};

/// A resident's balance and expiring lots (administrators).
#[utoipa::path(get, path = "/v1/admin/points/residents/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the resident's user id")),
    responses(
        (status = 200, body = PointsAccount),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %who.0.user_id))]
pub async fn account(
    platform: web::Data<Platform>,
    who: Admin,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    resident_exists(&platform.db, id).await?;
    Ok(HttpResponse::Ok().json(views::points_account(&platform.db, id).await?))
}

/// A resident's ledger lines, newest first (administrators).
#[utoipa::path(get, path = "/v1/admin/points/residents/{id}/entries", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the resident's user id"), PageQuery),
    responses(
        (status = 200, body = EntryPage),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "limit out of range or bad cursor", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %who.0.user_id))]
pub async fn entries(
    platform: web::Data<Platform>,
    who: Admin,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let page = query.parse()?;
    resident_exists(&platform.db, id).await?;
    let key = AccountRef::resident(id).key;
    Ok(HttpResponse::Ok().json(views::entries(&platform.db, &key, page).await?))
}
