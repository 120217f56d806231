//! `GET /open311/v2/services.json`.

use actix_web::{HttpRequest, HttpResponse};
use wufei_domain::voice::open311::{self, Service};

use crate::cache::public_json;

/// The services: one per suggestion category.
#[utoipa::path(get, path = "/open311/v2/services.json", tag = "open311",
    responses(
    (status = 200, body = Vec<Service>, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "`If-None-Match` names the current ETag")))]
#[tracing::instrument(skip_all)]
pub async fn services(req: HttpRequest) -> HttpResponse {
    public_json(&req, &open311::services())
}
