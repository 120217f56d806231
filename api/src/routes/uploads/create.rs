//! `POST /v1/uploads?purpose=…` (multipart field `file`).

use actix_multipart::Multipart;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use wufei_domain::{
    Platform,
    uploads::{Purpose, UploadView},
};

use super::{read_file, upload_error};
use crate::{
    extract::Auth,
    problem::{ApiError, Problem},
};

/// Query: what the file is for.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct UploadQuery {
    /// `pickup_photo`, `id_photo`, `licence`, `listing_photo` or `certificate`.
    pub purpose: String,
}

/// The multipart form.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The image (JPEG, PNG, WebP or GIF).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Uploads an image. It is decoded under pixel and memory limits, re-encoded (which strips
/// metadata such as GPS position) and given a thumbnail. Private purposes (everything but
/// `listing_photo`) are served only to the owner and administrators. Honours
/// `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/uploads", tag = "uploads", security(("bearer" = [])),
    params(UploadQuery, ("Idempotency-Key" = Option<String>, Header, description = "replay protection")),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = UploadView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "same key in flight", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(user_id = %auth.0.user_id))]
pub async fn create(
    platform: web::Data<Platform>,
    auth: Auth,
    query: web::Query<UploadQuery>,
    mut form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let purpose = Purpose::parse(&query.purpose).ok_or_else(|| {
        wufei_domain::Error::field(
            "purpose",
            "invalid",
            "must be pickup_photo, id_photo, licence, listing_photo or certificate",
        )
    })?;
    let Some(file) = read_file(&mut form, platform.settings.max_upload_bytes).await? else {
        return Err(wufei_domain::Error::field(
            "file",
            "required",
            "send the image in the form field `file`",
        )
        .into());
    };
    let view = platform
        .uploads
        .store(auth.0.user_id, purpose, file.bytes)
        .await
        .map_err(upload_error)?;
    Ok(HttpResponse::Created().json(view))
}
