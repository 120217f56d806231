//! `GET /open311/v2/requests/{id}.json`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Error, Platform,
    voice::open311::{self, Request},
};

use crate::problem::{ApiError, Problem};

/// One published request, as a list of one.
#[utoipa::path(get, path = "/open311/v2/requests/{file}", tag = "open311",
    params(("file" = String, Path, description = "`<service_request_id>.json`")),
    responses(
    (status = 200, body = Vec<Request>),
    (status = 404, description = "not found, or not yours", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn get_request(
    platform: web::Data<Platform>,
    file: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = file
        .strip_suffix(".json")
        .and_then(|id| id.parse().ok())
        .ok_or(Error::NotFound { what: "request" })?;
    Ok(HttpResponse::Ok().json(open311::get(&platform.db, id).await?))
}
