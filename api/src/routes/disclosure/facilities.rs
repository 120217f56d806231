//! `GET /v1/facilities`.

use actix_web::{HttpRequest, HttpResponse, web};
use wufei_domain::{
    Platform,
    disclosure::facilities::{self, FacilityFilter, FeatureCollection},
};

use crate::{
    cache::public_as,
    problem::{ApiError, Problem},
};

/// The facilities open to the public (recycling stations, sorting centres, transfer
/// stations, kitchen-waste and construction-waste plants, hazardous-waste points) as a
/// GeoJSON `FeatureCollection`; coordinates `[lng, lat]` in GCJ-02.
#[utoipa::path(get, path = "/v1/facilities", tag = "disclosure",
    params(FacilityFilter),
    responses(
    (status = 200, body = FeatureCollection, content_type = "application/geo+json", headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "`If-None-Match` names the current ETag"),
    (status = 422, description = "invalid input", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn list_facilities(
    req: HttpRequest,
    platform: web::Data<Platform>,
    filter: web::Query<FacilityFilter>,
) -> Result<HttpResponse, ApiError> {
    let map = facilities::map(&platform.db, &filter).await?;
    Ok(public_as(&req, &map, "application/geo+json"))
}
