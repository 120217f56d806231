//! Orphaned blobs. Every blob is written between two steps: an intent row naming its key
//! ([`intend`], committed before the write) and the row that records what the blob belongs
//! to, whose transaction also removes the intent ([`settle`]). A blob whose owning row never
//! committed — the process died between the two, or the insert failed and so did the
//! clean-up — keeps its intent; the periodic [`SWEEP`] deletes such blobs once their intent
//! is older than [`GRACE`], then the intent. A blob whose key some row does hold is kept
//! (only its stray intent goes). Idempotent: deleting a blob that is gone is not an error.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
    sea_query::{ExprTrait, OnConflict},
};

use crate::{
    entities::{article_attachment, blob_intent, upload},
    jobs::{Jobs, runner::JobHandler},
    ports::{blob::BlobStore, queue::Delivery},
};

/// Topic of the periodic sweep.
pub const SWEEP: &str = "uploads.sweep";

/// How old an intent must be before its blob counts as orphaned: far longer than any
/// upload takes between its blob and its row.
pub const GRACE: Duration = Duration::hours(1);

/// How many intents one pass looks at.
const BATCH: u64 = 500;

/// Records that blobs `keys` are about to be written (commit it before writing them).
pub async fn intend(db: &impl ConnectionTrait, keys: &[&str]) -> Result<(), sea_orm::DbErr> {
    let now = Utc::now();
    blob_intent::Entity::insert_many(keys.iter().map(|k| blob_intent::ActiveModel {
        blob_key: sea_orm::Set((*k).to_owned()),
        created_at: sea_orm::Set(now),
    }))
    .on_conflict(
        OnConflict::column(blob_intent::Column::BlobKey)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Removes the intents of `keys`, in the transaction that records their owning row.
pub async fn settle(db: &impl ConnectionTrait, keys: &[&str]) -> Result<(), sea_orm::DbErr> {
    blob_intent::Entity::delete_many()
        .filter(blob_intent::Column::BlobKey.is_in(keys.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// Whether some row holds blob `key`.
async fn owned(db: &impl ConnectionTrait, key: &str) -> Result<bool, sea_orm::DbErr> {
    let uploads = upload::Entity::find()
        .filter(
            upload::Column::BlobKey
                .eq(key)
                .or(upload::Column::ThumbKey.eq(key)),
        )
        .count(db)
        .await?;
    let attachments = article_attachment::Entity::find()
        .filter(article_attachment::Column::BlobKey.eq(key))
        .count(db)
        .await?;
    Ok(uploads + attachments > 0)
}

/// Deletes the blobs of intents older than [`GRACE`] at `now` that no row holds, and those
/// intents. Returns how many blobs were deleted.
pub async fn sweep(
    db: &DatabaseConnection,
    blobs: &dyn BlobStore,
    now: DateTime<Utc>,
) -> anyhow::Result<u64> {
    let stale = blob_intent::Entity::find()
        .filter(blob_intent::Column::CreatedAt.lt(now - GRACE))
        .order_by_asc(blob_intent::Column::CreatedAt)
        .limit(BATCH)
        .all(db)
        .await?;
    let mut deleted = 0;
    for intent in stale {
        if !owned(db, &intent.blob_key).await? {
            blobs.delete(&intent.blob_key).await?;
            deleted += 1;
        }
        settle(db, &[intent.blob_key.as_str()]).await?;
    }
    Ok(deleted)
}

/// Handles [`SWEEP`].
pub struct SweepHandler {
    db: DatabaseConnection,
    blobs: Arc<dyn BlobStore>,
}

#[async_trait]
impl JobHandler for SweepHandler {
    async fn handle(&self, _job: &Delivery) -> anyhow::Result<()> {
        let deleted = sweep(&self.db, self.blobs.as_ref(), Utc::now()).await?;
        if deleted > 0 {
            tracing::info!(deleted, "orphaned blobs deleted");
        }
        Ok(())
    }
}

/// The uploads' jobs.
pub fn jobs(db: &DatabaseConnection, blobs: Arc<dyn BlobStore>) -> Jobs {
    Jobs::default().periodic(
        SWEEP,
        SweepHandler {
            db: db.clone(),
            blobs,
        },
    )
}
