//! `POST /v1/recycler/shift`.

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};
use actix_web::{HttpResponse, web};
use wufei_domain::Platform;
use wufei_domain::recyclers::{self, RecyclerView, ShiftInput};

/// Goes on or off shift.
#[utoipa::path(post, path = "/v1/recycler/shift", tag = "recycler", security(("bearer" = [])), request_body = ShiftInput,
    responses(
    (status = 200, body = RecyclerView),
    (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "not allowed", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn shift(
    platform: web::Data<Platform>,
    auth: Auth,
    body: web::Json<ShiftInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(recyclers::shift(&platform.db, &*platform.geo, &auth.0, body.into_inner()).await?))
}
