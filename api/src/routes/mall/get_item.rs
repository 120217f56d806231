//! `GET /v1/mall/items/{id}`.

use actix_web::{HttpResponse, web};
use uuid::Uuid;
use wufei_domain::{
    Platform,
    mall::{ItemView, items},
};

use crate::problem::{ApiError, Problem};

/// One item on sale now; anything else is 404. No sign-in needed.
#[utoipa::path(get, path = "/v1/mall/items/{id}", tag = "mall",
    params(("id" = Uuid, Path, description = "item id")),
    responses(
    (status = 200, body = ItemView),
    (status = 404, description = "not found or not on sale", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(item_id = %id))]
pub async fn get_item(
    platform: web::Data<Platform>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(items::get_on_sale(&platform.db, id.into_inner()).await?))
}
