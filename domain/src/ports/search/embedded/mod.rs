//! The embedded search engine: tantivy indexes under `<data dir>/search/<index>/`, cut into
//! words by charabia exactly as Meilisearch cuts them ([`super::segment`]).
//!
//! # Layout and the swap
//! An index lives in a *generation* directory, `<index>/g-<uuid>/` (a tantivy index), named
//! by the pointer file `<index>/current` (JSON: the generation and a fingerprint of the
//! spec). [`SearchIndex::rebuild`] writes a new generation beside the live one while
//! searches and writes go on in the live one; writes made meanwhile are replayed into the
//! new generation (version-guarded), then the pointer is replaced by an atomic rename, the
//! in-memory index and reader are swapped under a lock, and the old generation is deleted.
//! A crash before the rename leaves the old generation live and a stray new one, deleted at
//! the next open; after it, the new one is live.
//!
//! A spec whose fields or dictionary changed (the fingerprint differs) opens an empty new
//! generation, with a warning: the capability's rebuild fills it from the database.
//!
//! # Versions
//! One writer per index, behind a mutex: every write reads the stored version of each id
//! under that mutex and skips a document whose stored version is newer, so the guard is
//! exact here. Each [`SearchIndex::upsert`] and [`SearchIndex::delete`] commits and reloads
//! the reader before it returns; send several documents per call, one commit each.
//!
//! # One process per data directory
//! `<index>/wufei.lock` is held (an OS file lock) as long as the index is open, and each
//! generation's tantivy writer holds tantivy's own lock. A second process opening the same
//! index gets an error naming the rule: in the embedded footprint `wufei-api` runs the job
//! runner itself (`Platform::spawn_background`, called by `api/src/startup.rs` when
//! `REDIS_URL` is unset), so no `wufei-worker` ever shares its data directory.
//!
//! # Queries
//! Caller text is never parsed as tantivy query syntax: it is truncated to
//! [`MAX_QUERY_CHARS`], cut into words by the segmenter, kept to [`MAX_QUERY_TERMS`], and
//! every word must match (in any text field), a synonym group standing for any of its
//! members. Filters are term and fast-field range queries on declared fields; a radius is a
//! bounding box on the `_lat`/`_lng` fast fields, then the exact haversine
//! ([`crate::ports::geo::distance_m`]). Matching documents are collected whole (id, sort key,
//! position, facet values from fast fields), sorted with the id as the last tie-break,
//! counted and paged in memory.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use tantivy::collector::{Collector, DocSetCollector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::directory::{DirectoryLock, Lock, MmapDirectory};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, Occur, Query as TQuery,
    RangeQuery, TermQuery,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};
use tantivy::{
    Directory, DocId, Index, IndexReader, IndexWriter, ReloadPolicy, Score, SegmentOrdinal,
    SegmentReader, TantivyDocument, Term,
};

use super::segment::Segmenter;
use super::{
    Document, Filter, Hit, Hits, IndexSpec, MAX_FACET_VALUES, MAX_LIMIT, MAX_QUERY_TERMS,
    MAX_REACHABLE_HITS, Query, SearchIndex, Sort, Value, near_is_satisfiable, truncate_query,
};
use crate::ports::PortError;
use crate::ports::geo::{EARTH_RADIUS_M, Position, distance_m};

mod index;
mod schema;
mod search;

use index::*;
use search::*;

const BACKEND: &str = "tantivy";

/// The tokenizer name every text field is indexed with.
const TOKENIZER: &str = "wufei_cmn";

/// The writer's memory budget (one indexing thread): tantivy flushes a segment when it is
/// reached, so it bounds memory, not index size.
const WRITER_MEMORY: usize = 20_000_000;

/// Bumped when the way documents are written changes, so old generations are replaced.
const LAYOUT: u32 = 1;

/// The weight of the `_parts` field against the last text field.
const PARTS_BOOST: Score = 0.5;

fn err(e: impl std::fmt::Display) -> PortError {
    PortError::backend(BACKEND, e)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The embedded [`SearchIndex`]. Cheap to clone; clones share the open indexes.
#[derive(Clone, Debug)]
pub struct EmbeddedSearch {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    root: PathBuf,
    slots: Mutex<HashMap<&'static str, Arc<Slot>>>,
}

impl EmbeddedSearch {
    /// An engine keeping its indexes under `root` (created if missing). Indexes are opened
    /// (and locked) by [`SearchIndex::prepare`], or at their first use.
    pub fn new(root: impl Into<PathBuf>) -> Result<Self, PortError> {
        let root = root.into();
        std::fs::create_dir_all(&root)
            .map_err(|e| err(format!("search directory {}: {e}", root.display())))?;
        Ok(Self {
            inner: Arc::new(Inner {
                root,
                slots: Mutex::default(),
            }),
        })
    }

    /// Runs `f` on the index of `spec` (opening it first if needed) off the async threads.
    async fn with_slot<T: Send + 'static>(
        &self,
        spec: &IndexSpec,
        f: impl FnOnce(&Slot) -> Result<T, PortError> + Send + 'static,
    ) -> Result<T, PortError> {
        spec.check()?;
        let inner = self.inner.clone();
        let spec = *spec;
        blocking(move || {
            let slot = inner.slot(&spec)?;
            f(&slot)
        })
        .await
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, PortError> + Send + 'static,
) -> Result<T, PortError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| err(format!("search task failed: {e}")))?
}

impl Inner {
    fn slot(&self, spec: &IndexSpec) -> Result<Arc<Slot>, PortError> {
        let mut slots = lock(&self.slots);
        if let Some(slot) = slots.get(spec.name) {
            return Ok(slot.clone());
        }
        let slot = Arc::new(Slot::open(&self.root.join(spec.name), spec)?);
        slots.insert(spec.name, slot.clone());
        Ok(slot)
    }
}

// ---- the port --------------------------------------------------------------------------

#[async_trait]
impl SearchIndex for EmbeddedSearch {
    fn backend(&self) -> &'static str {
        "embedded"
    }

    async fn prepare(&self, spec: &IndexSpec) -> Result<(), PortError> {
        self.with_slot(spec, |_| Ok(())).await
    }

    async fn close(&self) {
        let slots: Vec<Arc<Slot>> = lock(&self.inner.slots).drain().map(|(_, s)| s).collect();
        let closed = blocking(move || {
            for slot in slots {
                let live = slot.live();
                if let Some(writer) = lock(&live.writer).take()
                    && let Err(e) = writer.wait_merging_threads()
                {
                    tracing::warn!(generation = %live.name, error = %e, "search: closing the writer");
                }
            }
            Ok(())
        })
        .await;
        if let Err(e) = closed {
            tracing::warn!(error = %e, "search: closing");
        }
    }

    async fn ready(&self) -> Result<(), PortError> {
        let root = self.inner.root.clone();
        match tokio::fs::metadata(&root).await {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err(err(format!("{} is not a directory", root.display()))),
            Err(e) => Err(err(format!("{}: {e}", root.display()))),
        }
    }

    async fn upsert(&self, spec: &IndexSpec, docs: Vec<Document>) -> Result<(), PortError> {
        for doc in &docs {
            spec.check_document(doc)?;
        }
        if docs.is_empty() {
            return Ok(());
        }
        let spec_copy = *spec;
        self.with_slot(spec, move |slot| slot.upsert(&spec_copy, docs))
            .await
    }

    async fn version_of(&self, spec: &IndexSpec, id: &str) -> Result<Option<i64>, PortError> {
        let id = id.to_string();
        self.with_slot(spec, move |slot| slot.live().version_of(&slot.fields, &id))
            .await
    }

    async fn delete(&self, spec: &IndexSpec, ids: Vec<String>) -> Result<(), PortError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.with_slot(spec, move |slot| slot.delete(ids)).await
    }

    async fn search(&self, spec: &IndexSpec, query: &Query) -> Result<Hits, PortError> {
        spec.check_query(query)?;
        let (spec_copy, query) = (*spec, query.clone());
        self.with_slot(spec, move |slot| run_search(&spec_copy, slot, &query))
            .await
    }

    async fn rebuild(
        &self,
        spec: &IndexSpec,
        mut docs: BoxStream<'_, Result<Vec<Document>, PortError>>,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<u64, PortError> {
        let slot = {
            let inner = self.inner.clone();
            let spec = *spec;
            spec.check()?;
            blocking(move || inner.slot(&spec)).await?
        };
        let _one = slot.rebuilding.lock().await;
        let building = {
            let (slot, spec) = (slot.clone(), *spec);
            blocking(move || {
                let name = new_generation_name();
                let generation = Generation::open(&slot.dir, &name, &slot.seg, &spec, true)?;
                *lock(&slot.writes) = Some(Vec::new());
                Ok(Building {
                    slot,
                    generation: Arc::new(generation),
                    versions: HashMap::new(),
                    written: 0,
                })
            })
            .await?
        };
        let mut building = Some(building);
        let outcome: Result<(), PortError> = async {
            while let Some(batch) = docs.next().await {
                let batch = batch?;
                for doc in &batch {
                    spec.check_document(doc)?;
                }
                let mut b = building.take().ok_or_else(|| err("rebuild state lost"))?;
                let spec = *spec;
                let (b, result) = tokio::task::spawn_blocking(move || {
                    let result = b.write(&spec, &batch);
                    (b, result)
                })
                .await
                .map_err(|e| err(format!("search task failed: {e}")))?;
                let written = b.written;
                building = Some(b);
                result?;
                progress(written);
            }
            Ok(())
        }
        .await;
        let b = building.ok_or_else(|| err("rebuild state lost"))?;
        match outcome {
            Ok(()) => {
                let spec = *spec;
                blocking(move || b.swap(&spec)).await
            }
            Err(e) => {
                blocking(move || {
                    b.abandon();
                    Ok(())
                })
                .await?;
                Err(e)
            }
        }
    }
}
