//! `GET /v1/uploads/{id}/content`.

use actix_web::{HttpResponse, http::header, web};
use serde::Deserialize;
use uuid::Uuid;
use wufei_domain::{
    Platform,
    uploads::{Variant, Viewer},
};

use super::upload_error;
use crate::{
    extract::MaybeAuth,
    problem::{ApiError, Problem},
};

/// Query: which rendition.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ContentQuery {
    /// `original` (default) or `thumbnail`.
    pub variant: Option<String>,
}

/// The file. Private uploads answer 404 to anyone but their owner and administrators.
#[utoipa::path(get, path = "/v1/uploads/{id}/content", tag = "uploads",
    params(("id" = Uuid, Path, description = "upload id"), ContentQuery),
    responses(
        (status = 200, content_type = "image/*", body = Vec<u8>),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(upload_id = %id))]
pub async fn content(
    platform: web::Data<Platform>,
    auth: MaybeAuth,
    id: web::Path<Uuid>,
    query: web::Query<ContentQuery>,
) -> Result<HttpResponse, ApiError> {
    let variant = match query.variant.as_deref() {
        None | Some("original") => Variant::Original,
        Some("thumbnail") => Variant::Thumbnail,
        Some(_) => {
            return Err(wufei_domain::Error::field(
                "variant",
                "invalid",
                "must be original or thumbnail",
            )
            .into());
        }
    };
    let viewer = Viewer {
        user_id: auth.0.as_ref().map(|p| p.user_id),
        is_admin: auth.0.as_ref().is_some_and(|p| p.is_admin()),
    };
    let blob = platform
        .uploads
        .open(viewer, id.into_inner(), variant)
        .await
        .map_err(upload_error)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, blob.content_type))
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
        .insert_header(("x-content-type-options", "nosniff"))
        .body(blob.bytes))
}
