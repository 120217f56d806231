//! `GET /v1/cells/summary`.

use actix_web::{HttpRequest, HttpResponse, web};
use wufei_domain::{
    Platform,
    disclosure::cells::{self, CellSummary},
};

use crate::{cache::public_json, problem::ApiError};

/// Published cells per district, kind and field (领域) against the plan's targets (300 in
/// the city; per county: 18 life-sphere cells and the field targets of 五(二)).
#[utoipa::path(get, path = "/v1/cells/summary", tag = "disclosure",
    responses(
    (status = 200, body = CellSummary, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "`If-None-Match` names the current ETag")))]
#[tracing::instrument(skip_all)]
pub async fn cell_summary(
    req: HttpRequest,
    platform: web::Data<Platform>,
) -> Result<HttpResponse, ApiError> {
    Ok(public_json(&req, &cells::summary(&platform.db).await?))
}
