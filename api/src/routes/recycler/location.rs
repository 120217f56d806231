//! `POST /v1/recycler/location`.

use actix_web::{HttpResponse, web};
use wufei_domain::{
    Platform,
    recyclers::{self, LocationInput},
};

use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Location heartbeat of an on-shift recycler (every 10–30 s). Residents whose pickup is en
/// route see the position live. A heartbeat that puts the recycler back on the map (no
/// fresh position before) offers them the pickups waiting in their districts.
#[utoipa::path(post, path = "/v1/recycler/location", tag = "recycler", security(("bearer" = [])), request_body = LocationInput,
    responses(
        (status = 204),
        (status = 401, description = "not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an approved recycler", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not_on_shift`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "outside the service region", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn location(
    platform: web::Data<Platform>,
    auth: Auth,
    body: web::Json<LocationInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    let en_route = recyclers::heartbeat(
        &platform.db,
        &*platform.geo,
        &auth.0,
        input.clone(),
        recyclers::freshness(&platform.settings),
    )
    .await?;
    for p in en_route {
        let data = serde_json::json!({ "pickup_id": p.id, "lat": input.lat, "lng": input.lng });
        if let Err(e) = wufei_domain::realtime::push(
            &*platform.pubsub,
            p.resident_id,
            "recycler_position",
            data,
        )
        .await
        {
            tracing::warn!(error = %e, "could not push the recycler's position");
        }
    }
    Ok(HttpResponse::NoContent().finish())
}
