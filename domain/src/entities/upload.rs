//! The `uploads` table: one row per stored file, pointing at its blob and thumbnail keys.
//! Schema owned by `wufei-migrations` (`m20261129_000003_uploads`); this entity must never
//! be used to decide access on its own — go through `crate::uploads::UploadService`.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// What an upload is for; decides who may read it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Photo of the items for a pickup (shows a resident's home: private).
    #[sea_orm(string_value = "pickup_photo")]
    PickupPhoto,
    /// A recycler's identity document (private).
    #[sea_orm(string_value = "id_photo")]
    IdPhoto,
    /// A recycler's or merchant's business licence (private).
    #[sea_orm(string_value = "licence")]
    Licence,
    /// Photo on a marketplace listing (public).
    #[sea_orm(string_value = "listing_photo")]
    ListingPhoto,
    /// Quality certificate of a recycled product (private until attached and reviewed).
    #[sea_orm(string_value = "certificate")]
    Certificate,
}

impl Purpose {
    /// Every purpose, in a stable order.
    pub const ALL: [Purpose; 5] = [
        Purpose::PickupPhoto,
        Purpose::IdPhoto,
        Purpose::Licence,
        Purpose::ListingPhoto,
        Purpose::Certificate,
    ];

    /// Parses the wire form (`pickup_photo`, `id_photo`, `licence`, `listing_photo`,
    /// `certificate`); `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The wire and database form.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::PickupPhoto => "pickup_photo",
            Purpose::IdPhoto => "id_photo",
            Purpose::Licence => "licence",
            Purpose::ListingPhoto => "listing_photo",
            Purpose::Certificate => "certificate",
        }
    }
}

impl std::fmt::Display for Purpose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One stored upload.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "uploads")]
pub struct Model {
    /// Upload id (UUIDv7, so ids sort by creation time).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The user who uploaded it.
    pub owner_id: Uuid,
    /// What it is for.
    pub purpose: Purpose,
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
