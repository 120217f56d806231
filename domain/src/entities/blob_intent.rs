//! The `blob_intents` table. Schema owned by `wufei-migrations`
//! (`m20261207_000021_blob_intents`).

use sea_orm::entity::prelude::*;

/// A blob about to be written, whose owning row has not committed yet.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "blob_intents")]
pub struct Model {
    /// The blob's key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub blob_key: String,
    /// When the intent was written.
    pub created_at: DateTimeUtc,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
