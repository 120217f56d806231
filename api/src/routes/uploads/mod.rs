//! `/v1/uploads`: photos and documents, stored through the blob-store port.

pub mod content;
pub mod create;

use crate::idempotency::idempotent;
use actix_web::{middleware::from_fn, web};

use actix_web::http::StatusCode;
use wufei_domain::uploads::UploadError;

use crate::problem::ApiError;

/// A file read from a multipart form.
pub struct FormFile {
    /// The name the client gave it, if any.
    pub filename: Option<String>,
    /// Its bytes.
    pub bytes: bytes::Bytes,
}

/// Reads the form field `file` (the first one; other fields are read and dropped), refusing
/// with a 413 as soon as any field passes `limit` bytes. `None` when there is no `file`.
pub async fn read_file(
    form: &mut actix_multipart::Multipart,
    limit: usize,
) -> Result<Option<FormFile>, ApiError> {
    use futures::StreamExt;

    let malformed = |e: actix_multipart::MultipartError| {
        ApiError::edge(
            StatusCode::BAD_REQUEST,
            "malformed_multipart",
            format!("the form could not be read: {e}"),
        )
    };
    let mut file: Option<FormFile> = None;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(malformed)?;
        let is_file = field.name() == Some("file");
        let filename = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_owned);
        let mut buf = web::BytesMut::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(malformed)?;
            if buf.len() + chunk.len() > limit {
                return Err(ApiError::edge(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "file_too_large",
                    format!("the file is larger than {limit} bytes"),
                ));
            }
            if is_file {
                buf.extend_from_slice(&chunk);
            }
        }
        if is_file && file.is_none() {
            file = Some(FormFile {
                filename,
                bytes: buf.freeze(),
            });
        }
    }
    Ok(file)
}

/// Maps the upload pipeline's errors to the edge's.
pub fn upload_error(e: UploadError) -> ApiError {
    use StatusCode as S;
    match e {
        UploadError::Empty => ApiError::edge(S::BAD_REQUEST, "empty_file", "the file is empty"),
        UploadError::TooLarge { max_bytes } => ApiError::edge(
            S::PAYLOAD_TOO_LARGE,
            "file_too_large",
            format!("the file is larger than {max_bytes} bytes"),
        ),
        UploadError::UnsupportedType => ApiError::edge(
            S::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
            "only JPEG, PNG, WebP and GIF images are accepted",
        ),
        UploadError::TooManyPixels {
            width,
            height,
            max_pixels,
        } => ApiError::edge(
            S::UNPROCESSABLE_ENTITY,
            "image_too_large",
            format!("a {width}×{height} image exceeds the limit of {max_pixels} pixels"),
        ),
        UploadError::Corrupt(why) => {
            tracing::info!(reason = %why, "upload refused as corrupt");
            ApiError::edge(
                S::UNPROCESSABLE_ENTITY,
                "corrupt_image",
                "the image could not be decoded",
            )
        }
        UploadError::NotFound => wufei_domain::Error::NotFound { what: "upload" }.into(),
        UploadError::Port(p) => wufei_domain::Error::Port(p).into(),
        UploadError::Database(d) => wufei_domain::Error::Database(d).into(),
    }
}

/// Registers the upload routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/uploads")
            .wrap(from_fn(idempotent))
            .route(web::post().to(create::create)),
    )
    .service(web::resource("/uploads/{id}/content").route(web::get().to(content::content)));
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create::create, content::content,))]
pub struct Api;
