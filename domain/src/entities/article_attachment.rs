//! The `article_attachments` table: PDF files attached to articles. Schema owned by
//! `wufei-migrations` (`m20261207_000019_articles`).

use sea_orm::entity::prelude::*;

/// One stored PDF.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "article_attachments")]
pub struct Model {
    /// Id (UUIDv7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The article it is attached to; `None` until an article takes it.
    pub article_id: Option<Uuid>,
    /// Its place among the article's attachments.
    pub position: i32,
    /// The administrator who uploaded it.
    pub owner_id: Uuid,
    /// The file name shown and offered on download.
    pub filename: String,
    /// Always `application/pdf` for now.
    pub content_type: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// Blob-store key.
    pub blob_key: String,
    /// Uploaded.
    pub created_at: DateTimeUtc,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
