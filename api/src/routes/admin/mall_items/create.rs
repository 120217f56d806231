//! `POST /v1/admin/mall/items`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    mall::{
        ItemView,
        items::{self, NewItem},
    },
};

use crate::{
    extract::Admin,
    problem::{ApiError, Problem},
};

/// Creates an item (district administrators: in their district; super administrators:
/// anywhere, or city-wide). Audited.
#[utoipa::path(post, path = "/v1/admin/mall/items", tag = "admin", security(("bearer" = [])),
    request_body = NewItem, responses(
    (status = 201, body = ItemView),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "another district, or a city-wide item by a district administrator", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %admin.0.user_id))]
pub async fn create(
    platform: web::Data<Platform>,
    admin: Admin,
    body: web::Json<NewItem>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created()
        .json(items::create(&platform.db, &admin.0, body.into_inner()).await?))
}
