//! `PATCH /v1/admin/mall/items/{id}`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    mall::{
        ItemView,
        items::{self, ItemPatch},
    },
};

use crate::{
    extract::Admin,
    problem::{ApiError, Problem},
};

/// Edits an item: name, kind, description, price, stock (set), per-person limit, sale
/// window, station, image, active. The district never changes. Audited with from and to.
#[utoipa::path(patch, path = "/v1/admin/mall/items/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "item id")),
    request_body = ItemPatch, responses(
    (status = 200, body = ItemView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "an item of another district", body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %admin.0.user_id, item_id = %id))]
pub async fn update(
    platform: web::Data<Platform>,
    admin: Admin,
    id: web::Path<Uuid>,
    body: web::Json<ItemPatch>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(items::update(&platform.db, &admin.0, id.into_inner(), body.into_inner()).await?))
}
