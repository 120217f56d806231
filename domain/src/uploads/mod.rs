//! Uploads: the photos and documents users send (pickup photos, ID photos, licences,
//! listing photos, certificates), behind `POST /v1/uploads` and
//! `GET /v1/uploads/{id}/content`.
//!
//! Every upload is sniffed from its bytes, size-checked from its header, decoded under
//! memory limits, re-encoded (dropping EXIF and GPS) and given a thumbnail before anything
//! is stored; then its blobs go to the [`BlobStore`](crate::ports::blob::BlobStore) and
//! its metadata to the `uploads` table.
//!
//! This module must never store or serve bytes exactly as a client sent them, never let a
//! private upload be read by anyone but its owner or an administrator, and never reveal
//! to anyone else that a private upload exists (they get [`UploadError::NotFound`]).

mod process;
mod service;
pub mod sweep;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ports::PortError;

pub use service::UploadService;

pub use crate::entities::upload::Purpose;

impl Purpose {
    /// Whether only the owner and administrators may read it. Only listing photos are
    /// public.
    pub fn is_private(self) -> bool {
        !matches!(self, Purpose::ListingPhoto)
    }
}

/// Limits applied to every upload before and while decoding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadLimits {
    /// Largest accepted file, in bytes (default 10 MiB). The HTTP edge should stop reading
    /// the multipart field at this size too.
    pub max_bytes: usize,
    /// Most pixels (width × height) an image may have (default 40 megapixels).
    pub max_pixels: u64,
    /// Longest accepted edge in pixels (default 10 000).
    pub max_dimension: u32,
    /// Most memory the decoder may allocate, in bytes (default 256 MiB).
    pub decode_memory_bytes: u64,
    /// Longest edge of thumbnails in pixels (default 320).
    pub thumbnail_edge: u32,
}

impl Default for UploadLimits {
    fn default() -> Self {
        Self {
            max_bytes: 10 * 1024 * 1024,
            max_pixels: 40_000_000,
            max_dimension: 10_000,
            decode_memory_bytes: 256 * 1024 * 1024,
            thumbnail_edge: 320,
        }
    }
}

/// Who is asking to read an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    /// The signed-in user, or `None` for an anonymous request.
    pub user_id: Option<Uuid>,
    /// Whether the user is an administrator (any scope).
    pub is_admin: bool,
}

/// Which stored rendition to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// The re-encoded full image.
    #[default]
    Original,
    /// The JPEG thumbnail.
    Thumbnail,
}

/// An upload as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UploadView {
    /// Upload id.
    pub id: Uuid,
    /// Who uploaded it.
    pub owner_id: Uuid,
    /// What it is for.
    pub purpose: Purpose,
    /// Media type of the stored original (`image/jpeg` or `image/png`).
    pub content_type: String,
    /// Width in pixels, after EXIF orientation.
    pub width: u32,
    /// Height in pixels, after EXIF orientation.
    pub height: u32,
    /// Size of the stored original in bytes.
    pub size_bytes: u64,
    /// Where to read the original: `/v1/uploads/{id}/content`.
    pub url: String,
    /// Where to read the thumbnail: `/v1/uploads/{id}/content?variant=thumbnail`.
    pub thumbnail_url: String,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

/// Why an upload could not be stored or read. Each variant names the HTTP status the edge
/// should answer with.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// No bytes were sent. **400 Bad Request**.
    #[error("the upload is empty")]
    Empty,
    /// More bytes than allowed. **413 Payload Too Large**.
    #[error("the upload is larger than {max_bytes} bytes")]
    TooLarge {
        /// The limit, for the client's message.
        max_bytes: usize,
    },
    /// Not a JPEG, PNG, WebP or GIF, judged from its bytes. **415 Unsupported Media Type**.
    #[error("only JPEG, PNG, WebP and GIF images are accepted")]
    UnsupportedType,
    /// The image is too big in pixels or would need too much memory to decode (a
    /// decompression bomb looks like this). **422 Unprocessable Entity**.
    #[error("the image is {width}×{height} pixels; at most {max_pixels} pixels are accepted")]
    TooManyPixels {
        /// Width from the header (0 if the decoder refused before reporting it).
        width: u32,
        /// Height from the header (0 if the decoder refused before reporting it).
        height: u32,
        /// The pixel limit.
        max_pixels: u64,
    },
    /// The bytes look like an image but cannot be decoded. **422 Unprocessable Entity**.
    /// The message is for logs; do not echo it to clients.
    #[error("the image could not be decoded: {0}")]
    Corrupt(String),
    /// No such upload, or the viewer may not see it. **404 Not Found**.
    #[error("upload not found")]
    NotFound,
    /// The blob store failed. **503 Service Unavailable**.
    #[error(transparent)]
    Port(#[from] PortError),
    /// The database failed. Central database mapping (**503** when unavailable, else 500).
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
}

/// Whether upload `id` exists, belongs to `owner` and was uploaded for `purpose`: what a
/// service checks before attaching an upload to something of `owner`'s.
pub async fn is_own(
    db: &impl sea_orm::ConnectionTrait,
    id: uuid::Uuid,
    owner: uuid::Uuid,
    purpose: Purpose,
) -> Result<bool, sea_orm::DbErr> {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

    use crate::entities::upload;
    Ok(upload::Entity::find_by_id(id)
        .filter(upload::Column::OwnerId.eq(owner))
        .filter(upload::Column::Purpose.eq(purpose.as_str()))
        .count(db)
        .await?
        > 0)
}
