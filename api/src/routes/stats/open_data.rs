//! `GET /v1/open-data`.

use actix_web::{HttpRequest, HttpResponse, web};
use wufei_domain::{
    Platform,
    stats::open_data::{self, Dataset},
};

use crate::{cache::public_json, problem::ApiError};

/// The open-data catalogue: each dataset's title, description, columns with units, update
/// frequency, licence, last change and download links.
#[utoipa::path(get, path = "/v1/open-data", tag = "disclosure",
    responses(
    (status = 200, body = Vec<Dataset>, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "`If-None-Match` names the current ETag")))]
#[tracing::instrument(skip_all)]
pub async fn open_data(
    req: HttpRequest,
    platform: web::Data<Platform>,
) -> Result<HttpResponse, ApiError> {
    Ok(public_json(
        &req,
        &open_data::catalogue(&platform.db).await?,
    ))
}
