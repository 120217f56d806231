//! The `uploads` table: one row per stored file, pointing at its blob and thumbnail keys.
//! Schema owned by `wufei-migrations` (`m20261129_000003_uploads`); this entity must never
//! be used to decide access on its own — go through `crate::uploads::UploadService`.

use sea_orm::entity::prelude::*;

/// One stored upload.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "uploads")]
pub struct Model {
    /// Upload id (UUIDv7, so ids sort by creation time).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The user who uploaded it.
    pub owner_id: Uuid,
    /// `pickup_photo`, `id_photo`, `licence`, `listing_photo` or `certificate`.
    pub purpose: String,
    /// Media type of the stored (re-encoded) original.
    pub content_type: String,
    /// Width in pixels, after EXIF orientation.
    pub width: i32,
    /// Height in pixels, after EXIF orientation.
    pub height: i32,
    /// Size of the stored original in bytes.
    pub size_bytes: i64,
    /// Blob store key of the original.
    pub blob_key: String,
    /// Blob store key of the JPEG thumbnail.
    pub thumb_key: String,
    /// When it was stored.
    pub created_at: DateTimeUtc,
}

/// No relations yet; features that attach uploads hold the id themselves.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
