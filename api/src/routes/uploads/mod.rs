//! `/v1/uploads`: photos and documents, stored through the blob-store port.

pub mod content;
pub mod create;

use crate::idempotency::idempotent;
use actix_web::{middleware::from_fn, web};

use actix_web::http::StatusCode;
use wufei_domain::uploads::UploadError;

use crate::problem::ApiError;

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
