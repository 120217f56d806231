//! Search projections: how a capability's rows become documents of a search index, and
//! the one job handler, staging call and rebuild that keep every index in step.
//!
//! A capability describes its index once, as a [`Projection`] (the spec, the job topic, how
//! to read one row's document, its version, and a batch in id order). Every change to such
//! a row bumps its version and calls [`stage`] in the same transaction; the worker's
//! [`IndexHandler`] then writes the row as it is now with [`write_current`], and
//! `wufei-api search reindex` runs [`reindex`]. The port's rules (versions only go up, hide
//! with a flag instead of deleting) are in [`crate::ports::search`].

use std::{marker::PhantomData, sync::Arc};

use async_trait::async_trait;
use futures::{StreamExt, stream::BoxStream};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    error::{Error, Result},
    jobs::{outbox, runner::JobHandler},
    ports::{
        PortError,
        queue::Delivery,
        search::{Document, IndexSpec, SearchIndex},
    },
};

/// How many rows one rebuild batch reads and writes.
const REBUILD_BATCH: u64 = 1000;

/// A table projected into a search index.
#[async_trait]
pub trait Projection: Send + Sync + 'static {
    /// The index.
    const SPEC: IndexSpec;
    /// The topic of the job that writes one row to the index.
    const TOPIC: &'static str;

    /// The document of row `id` as it is now, or `None` if the row does not exist.
    async fn document(db: &DatabaseConnection, id: Uuid) -> Result<Option<Document>>;

    /// The version of row `id` now, or `None` if it does not exist.
    async fn version(db: &DatabaseConnection, id: Uuid) -> Result<Option<i64>>;

    /// Up to `limit` documents of the rows whose id is above `after`, in id order.
    async fn batch(
        db: &DatabaseConnection,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<Document>>;

    /// How many rows there are (what a rebuild will write).
    async fn count(db: &DatabaseConnection) -> Result<u64>;
}

/// Stages the index job of row `id` of `P` in the caller's transaction.
pub async fn stage<P: Projection>(txn: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    outbox::stage(txn, P::TOPIC, serde_json::json!({ "id": id }), None).await?;
    Ok(())
}

/// Writes row `id` of `P` to the index until the index holds its current version: after
/// each write the version is read again and the row written once more if it moved on
/// meanwhile, so concurrent jobs on one row converge on the newest (a handful of rounds:
/// each only repeats on a change during the previous write, and that change staged its own
/// job anyway).
pub async fn write_current<P: Projection>(
    db: &DatabaseConnection,
    search: &dyn SearchIndex,
    id: Uuid,
) -> Result<()> {
    for _ in 0..5 {
        let Some(doc) = P::document(db, id).await? else {
            search.delete(&P::SPEC, vec![id.to_string()]).await?;
            return Ok(());
        };
        let written = doc.version;
        search.upsert(&P::SPEC, vec![doc]).await?;
        if P::version(db, id).await?.is_none_or(|v| v <= written) {
            return Ok(());
        }
    }
    Ok(())
}

/// Handles `P`'s index jobs. Before its first write it prepares the index (idempotent), in
/// case the engine was away when the process started.
pub struct IndexHandler<P> {
    db: DatabaseConnection,
    search: Arc<dyn SearchIndex>,
    prepared: std::sync::atomic::AtomicBool,
    projection: PhantomData<fn() -> P>,
}

impl<P: Projection> IndexHandler<P> {
    /// A handler writing to `search` from `db`.
    pub fn new(db: &DatabaseConnection, search: Arc<dyn SearchIndex>) -> Self {
        Self {
            db: db.clone(),
            search,
            prepared: Default::default(),
            projection: PhantomData,
        }
    }
}

#[derive(Deserialize)]
struct IndexJob {
    // Jobs staged before the projections were shared named the listing.
    #[serde(alias = "listing_id")]
    id: Uuid,
}

#[async_trait]
impl<P: Projection> JobHandler for IndexHandler<P> {
    async fn handle(&self, job: &Delivery) -> anyhow::Result<()> {
        use std::sync::atomic::Ordering::Relaxed;
        let job: IndexJob = serde_json::from_value(job.payload.clone())?;
        if !self.prepared.load(Relaxed) {
            self.search.prepare(&P::SPEC).await?;
            self.prepared.store(true, Relaxed);
        }
        write_current::<P>(&self.db, self.search.as_ref(), job.id).await?;
        Ok(())
    }
}

/// Every row's document, in batches, in id order (keyset paging, so a rebuild never holds
/// more than a batch).
fn all_documents<P: Projection>(
    db: &DatabaseConnection,
) -> BoxStream<'_, std::result::Result<Vec<Document>, PortError>> {
    futures::stream::unfold(Some(None::<Uuid>), move |after| async move {
        let after = after?;
        match P::batch(db, after, REBUILD_BATCH).await {
            Err(e) => Some((Err(PortError::backend("database", e)), None)),
            Ok(docs) if docs.is_empty() => None,
            Ok(docs) => {
                let last = docs.last().and_then(|d| Uuid::parse_str(&d.id).ok());
                Some((Ok(docs), last.map(Some)))
            }
        }
    })
    .boxed()
}

/// Rebuilds `P`'s index from the database beside the live one and swaps it in; `progress`
/// hears how many documents were written so far. Returns how many in all.
pub async fn reindex<P: Projection>(
    db: &DatabaseConnection,
    engine: &dyn SearchIndex,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<u64> {
    engine
        .rebuild(&P::SPEC, all_documents::<P>(db), progress)
        .await
        .map_err(Error::search)
}
