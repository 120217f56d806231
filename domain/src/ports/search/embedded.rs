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

// ---- fields and documents -------------------------------------------------------------

/// The tantivy fields of one spec.
#[derive(Debug, Clone)]
struct Fields {
    id: Field,
    version: Field,
    text: Vec<Field>,
    parts: Field,
    keywords: Vec<(&'static str, Field)>,
    numbers: Vec<(&'static str, Field)>,
    flags: Vec<(&'static str, Field)>,
    lat: Field,
    lng: Field,
}

fn schema(spec: &IndexSpec) -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        id: b.add_text_field("_id", STRING | FAST),
        version: b.add_i64_field("_version", FAST),
        text: spec
            .text
            .iter()
            .map(|f| b.add_text_field(f, text.clone()))
            .collect(),
        parts: b.add_text_field("_parts", text),
        keywords: spec
            .keywords
            .iter()
            .map(|f| (*f, b.add_text_field(f, STRING | FAST)))
            .collect(),
        numbers: spec
            .numbers
            .iter()
            .map(|f| (*f, b.add_i64_field(f, INDEXED | FAST)))
            .collect(),
        flags: spec
            .flags
            .iter()
            .map(|f| (*f, b.add_bool_field(f, INDEXED | FAST)))
            .collect(),
        lat: b.add_f64_field("_lat", FAST),
        lng: b.add_f64_field("_lng", FAST),
    };
    (b.build(), fields)
}

fn field_of(list: &[(&'static str, Field)], name: &str) -> Option<Field> {
    list.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

fn to_tantivy(
    fields: &Fields,
    spec: &IndexSpec,
    seg: &Segmenter,
    doc: &Document,
) -> TantivyDocument {
    let mut out = TantivyDocument::new();
    out.add_text(fields.id, &doc.id);
    out.add_i64(fields.version, doc.version);
    let mut texts = Vec::new();
    for (name, field) in spec.text.iter().zip(&fields.text) {
        if let Some(Value::Text(s)) = doc.fields.get(name) {
            out.add_text(*field, s);
            texts.push(s.as_str());
        }
    }
    if let Some(parts) = seg.parts(texts) {
        out.add_text(fields.parts, parts);
    }
    for (name, value) in &doc.fields {
        match value {
            Value::Text(s) => {
                if let Some(f) = field_of(&fields.keywords, name) {
                    out.add_text(f, s);
                }
            }
            Value::Number(n) => {
                if let Some(f) = field_of(&fields.numbers, name) {
                    out.add_i64(f, *n);
                }
            }
            Value::Flag(b) => {
                if let Some(f) = field_of(&fields.flags, name) {
                    out.add_bool(f, *b);
                }
            }
        }
    }
    if let Some(at) = doc.geo {
        out.add_f64(fields.lat, at.lat);
        out.add_f64(fields.lng, at.lng);
    }
    out
}

// ---- the tokenizer ------------------------------------------------------------------

/// charabia's words as a tantivy tokenizer.
#[derive(Clone)]
struct Words(Arc<Segmenter>);

struct WordStream {
    tokens: Vec<Token>,
    next: usize,
}

impl Tokenizer for Words {
    type TokenStream<'a> = WordStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream {
        let tokens = self
            .0
            .words(text)
            .into_iter()
            .enumerate()
            .map(|(position, w)| Token {
                offset_from: w.start,
                offset_to: w.end,
                position,
                text: w.text,
                position_length: 1,
            })
            .collect();
        WordStream { tokens, next: 0 }
    }
}

impl TokenStream for WordStream {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next.saturating_sub(1)]
    }

    fn token_mut(&mut self) -> &mut Token {
        let at = self.next.saturating_sub(1);
        &mut self.tokens[at]
    }
}

// ---- one index: its lock, its live generation, its writes ------------------------------

/// The pointer file's content.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Pointer {
    generation: String,
    spec: String,
}

/// What identifies the way documents of `spec` are written: a change means a new index.
fn fingerprint(spec: &IndexSpec) -> String {
    format!(
        "layout {LAYOUT}; text {:?}; keywords {:?}; numbers {:?}; flags {:?}; geo {}; dictionary {:?}",
        spec.text, spec.keywords, spec.numbers, spec.flags, spec.geo, spec.dictionary
    )
}

/// One generation, open.
struct Generation {
    name: String,
    reader: IndexReader,
    /// Taken only under [`Slot::writes`] (or by the rebuild that owns the generation).
    writer: Mutex<Option<IndexWriter>>,
}

impl Generation {
    fn open(
        dir: &Path,
        name: &str,
        seg: &Arc<Segmenter>,
        spec: &IndexSpec,
        create: bool,
    ) -> Result<Self, PortError> {
        let path = dir.join(name);
        let index = if create {
            std::fs::create_dir_all(&path).map_err(err)?;
            Index::create_in_dir(&path, schema(spec).0).map_err(err)?
        } else {
            let index = Index::open_in_dir(&path).map_err(err)?;
            if index.schema() != schema(spec).0 {
                return Err(err(format!(
                    "{}: schema differs from the spec",
                    path.display()
                )));
            }
            index
        };
        index
            .tokenizers()
            .register(TOKENIZER, TextAnalyzer::from(Words(seg.clone())));
        let writer = index
            .writer_with_num_threads(1, WRITER_MEMORY)
            .map_err(|e| err(format!("{}: {e}", path.display())))?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(err)?;
        Ok(Self {
            name: name.to_string(),
            reader,
            writer: Mutex::new(Some(writer)),
        })
    }

    /// Writes `docs` unless the version held (`held`) is newer, then commits and reloads.
    /// Returns how many were written.
    fn write(
        &self,
        fields: &Fields,
        spec: &IndexSpec,
        seg: &Segmenter,
        docs: &[Document],
        held: &mut dyn FnMut(&str) -> Result<Option<i64>, PortError>,
    ) -> Result<u64, PortError> {
        let mut guard = lock(&self.writer);
        let writer = guard.as_mut().ok_or_else(|| err("index writer closed"))?;
        let mut newest: BTreeMap<&str, &Document> = BTreeMap::new();
        for doc in docs {
            match newest.get(doc.id.as_str()) {
                Some(seen) if seen.version > doc.version => {}
                _ => {
                    newest.insert(&doc.id, doc);
                }
            }
        }
        let mut written = 0;
        for (id, doc) in newest {
            if held(id)?.is_some_and(|v| v > doc.version) {
                continue;
            }
            writer.delete_term(Term::from_field_text(fields.id, id));
            writer
                .add_document(to_tantivy(fields, spec, seg, doc))
                .map_err(err)?;
            written += 1;
        }
        Ok(written)
    }

    fn commit(&self) -> Result<(), PortError> {
        let mut guard = lock(&self.writer);
        let writer = guard.as_mut().ok_or_else(|| err("index writer closed"))?;
        writer.commit().map_err(err)?;
        self.reader.reload().map_err(err)
    }

    fn delete(&self, fields: &Fields, ids: &[String]) -> Result<(), PortError> {
        let mut guard = lock(&self.writer);
        let writer = guard.as_mut().ok_or_else(|| err("index writer closed"))?;
        for id in ids {
            writer.delete_term(Term::from_field_text(fields.id, id));
        }
        Ok(())
    }

    /// The version this generation's last reload holds for `id`.
    fn version_of(&self, fields: &Fields, id: &str) -> Result<Option<i64>, PortError> {
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_text(fields.id, id),
            IndexRecordOption::Basic,
        );
        let found = searcher.search(&query, &DocSetCollector).map_err(err)?;
        let mut version = None;
        for at in found {
            let column = searcher
                .segment_reader(at.segment_ord)
                .fast_fields()
                .i64("_version")
                .map_err(err)?;
            version = version.max(column.first(at.doc_id));
        }
        Ok(version)
    }

    /// Closes the writer (waiting for its merges) and deletes the directory.
    fn retire(&self, dir: &Path) {
        if let Some(writer) = lock(&self.writer).take()
            && let Err(e) = writer.wait_merging_threads()
        {
            tracing::warn!(generation = %self.name, error = %e, "search: closing an old generation");
        }
        if let Err(e) = std::fs::remove_dir_all(dir.join(&self.name)) {
            tracing::warn!(generation = %self.name, error = %e, "search: deleting an old generation (deleted at the next open)");
        }
    }
}

/// Writes that arrive while a rebuild runs, replayed into the new generation before the swap.
enum Change {
    Upsert(Vec<Document>),
    Delete(Vec<String>),
}

/// One open index.
struct Slot {
    dir: PathBuf,
    spec_key: String,
    seg: Arc<Segmenter>,
    fields: Fields,
    live: RwLock<Arc<Generation>>,
    /// Serialises writes; holds the changes made during a rebuild.
    writes: Mutex<Option<Vec<Change>>>,
    /// One rebuild at a time.
    rebuilding: tokio::sync::Mutex<()>,
    _lock: DirectoryLock,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn read_pointer(dir: &Path) -> Option<Pointer> {
    let bytes = std::fs::read(dir.join("current")).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Replaces the pointer file atomically (write beside, sync, rename, sync the directory).
fn write_pointer(dir: &Path, pointer: &Pointer) -> Result<(), PortError> {
    use std::io::Write;
    let tmp = dir.join("current.tmp");
    let bytes = serde_json::to_vec(pointer).map_err(err)?;
    let mut file = std::fs::File::create(&tmp).map_err(err)?;
    file.write_all(&bytes).map_err(err)?;
    file.sync_all().map_err(err)?;
    std::fs::rename(&tmp, dir.join("current")).map_err(err)?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(err)
}

fn new_generation_name() -> String {
    format!("g-{}", uuid::Uuid::new_v4().simple())
}

impl Slot {
    fn open(dir: &Path, spec: &IndexSpec) -> Result<Self, PortError> {
        std::fs::create_dir_all(dir).map_err(err)?;
        let directory = MmapDirectory::open(dir).map_err(err)?;
        let lock = directory
            .acquire_lock(&Lock {
                filepath: PathBuf::from("wufei.lock"),
                is_blocking: false,
            })
            .map_err(|e| {
                err(format!(
                    "search index {} is open in another process ({e}): in the embedded footprint \
                     one process (wufei-api, which runs the jobs itself) owns the data directory",
                    dir.display()
                ))
            })?;
        let seg = Arc::new(Segmenter::new(spec.dictionary));
        let spec_key = fingerprint(spec);
        let opened = match read_pointer(dir) {
            Some(p) if p.spec == spec_key => {
                match Generation::open(dir, &p.generation, &seg, spec, false) {
                    Ok(g) => Some(g),
                    Err(e) => {
                        tracing::warn!(index = spec.name, error = %e, "search: the live generation cannot be opened; starting an empty index (rebuild it)");
                        None
                    }
                }
            }
            Some(_) => {
                tracing::warn!(
                    index = spec.name,
                    "search: the spec changed; starting an empty index (rebuild it)"
                );
                None
            }
            None => None,
        };
        let live = match opened {
            Some(g) => g,
            None => {
                let name = new_generation_name();
                let g = Generation::open(dir, &name, &seg, spec, true)?;
                write_pointer(
                    dir,
                    &Pointer {
                        generation: name,
                        spec: spec_key.clone(),
                    },
                )?;
                g
            }
        };
        // Under the lock, anything else here is a stray generation (an old one, or a
        // rebuild that never swapped).
        for entry in std::fs::read_dir(dir).map_err(err)?.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with("g-") && name != live.name {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            spec_key,
            seg,
            fields: schema(spec).1,
            live: RwLock::new(Arc::new(live)),
            writes: Mutex::new(None),
            rebuilding: tokio::sync::Mutex::new(()),
            _lock: lock,
        })
    }

    fn live(&self) -> Arc<Generation> {
        self.live
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn upsert(&self, spec: &IndexSpec, docs: Vec<Document>) -> Result<(), PortError> {
        let mut writes = lock(&self.writes);
        let live = self.live();
        let written = live.write(&self.fields, spec, &self.seg, &docs, &mut |id| {
            live.version_of(&self.fields, id)
        })?;
        if written > 0 {
            live.commit()?;
        }
        if let Some(changes) = writes.as_mut() {
            changes.push(Change::Upsert(docs));
        }
        Ok(())
    }

    fn delete(&self, ids: Vec<String>) -> Result<(), PortError> {
        let mut writes = lock(&self.writes);
        let live = self.live();
        live.delete(&self.fields, &ids)?;
        live.commit()?;
        if let Some(changes) = writes.as_mut() {
            changes.push(Change::Delete(ids));
        }
        Ok(())
    }
}

// ---- rebuild ---------------------------------------------------------------------------

/// A generation being built, with the version of every id written to it.
struct Building {
    slot: Arc<Slot>,
    generation: Arc<Generation>,
    versions: HashMap<String, i64>,
    written: u64,
}

impl Building {
    fn write(&mut self, spec: &IndexSpec, docs: &[Document]) -> Result<(), PortError> {
        let versions = &mut self.versions;
        let slot = &self.slot;
        let written = self
            .generation
            .write(&slot.fields, spec, &slot.seg, docs, &mut |id| {
                Ok(versions.get(id).copied())
            })?;
        for doc in docs {
            let v = versions.entry(doc.id.clone()).or_insert(doc.version);
            *v = (*v).max(doc.version);
        }
        self.written += written;
        Ok(())
    }

    /// Replays the writes made meanwhile, commits, points `current` at the new generation,
    /// swaps it in and retires the old one.
    fn swap(mut self, spec: &IndexSpec) -> Result<u64, PortError> {
        let slot = self.slot.clone();
        // What the stream wrote; the replayed writes are not the rebuild's.
        let written = self.written;
        let old = {
            let mut writes = lock(&slot.writes);
            for change in writes.take().unwrap_or_default() {
                match change {
                    Change::Upsert(docs) => self.write(spec, &docs)?,
                    Change::Delete(ids) => {
                        self.generation.delete(&slot.fields, &ids)?;
                        for id in ids {
                            self.versions.remove(&id);
                        }
                    }
                }
            }
            self.generation.commit()?;
            write_pointer(
                &slot.dir,
                &Pointer {
                    generation: self.generation.name.clone(),
                    spec: slot.spec_key.clone(),
                },
            )?;
            let mut live = slot.live.write().unwrap_or_else(PoisonError::into_inner);
            std::mem::replace(&mut *live, self.generation.clone())
        };
        old.retire(&slot.dir);
        Ok(written)
    }

    /// Gives up: the live generation stays, the new one is deleted.
    fn abandon(self) {
        lock(&self.slot.writes).take();
        self.generation.retire(&self.slot.dir);
    }
}

// ---- search ----------------------------------------------------------------------------

/// One matching document, as the collector reads it.
#[derive(Debug)]
struct Row {
    id: String,
    score: Score,
    key: Option<i64>,
    at: Option<Position>,
    facets: Vec<Option<String>>,
}

/// Collects every matching document with what sorting, distance and facets need.
struct Rows {
    key: Option<&'static str>,
    facets: Vec<&'static str>,
}

struct SegmentRows {
    ids: Option<StrColumn>,
    key: Option<Column<i64>>,
    lat: Column<f64>,
    lng: Column<f64>,
    facets: Vec<Option<StrColumn>>,
    rows: Vec<Row>,
    buf: String,
}

fn str_of(column: Option<&StrColumn>, doc: DocId, buf: &mut String) -> Option<String> {
    let column = column?;
    let ord = column.term_ords(doc).next()?;
    match column.ord_to_str(ord, buf) {
        Ok(true) => Some(buf.clone()),
        _ => None,
    }
}

impl Collector for Rows {
    type Fruit = Vec<Row>;
    type Child = SegmentRows;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<SegmentRows> {
        let ff = segment.fast_fields();
        Ok(SegmentRows {
            ids: ff.str("_id")?,
            key: self.key.map(|k| ff.i64(k)).transpose()?,
            lat: ff.f64("_lat")?,
            lng: ff.f64("_lng")?,
            facets: self
                .facets
                .iter()
                .map(|f| ff.str(f))
                .collect::<tantivy::Result<_>>()?,
            rows: Vec::new(),
            buf: String::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Vec<Row>>) -> tantivy::Result<Vec<Row>> {
        Ok(fruits.into_iter().flatten().collect())
    }
}

impl SegmentCollector for SegmentRows {
    type Fruit = Vec<Row>;

    fn collect(&mut self, doc: DocId, score: Score) {
        let Some(id) = str_of(self.ids.as_ref(), doc, &mut self.buf) else {
            return;
        };
        let at = match (self.lat.first(doc), self.lng.first(doc)) {
            (Some(lat), Some(lng)) => Some(Position { lat, lng }),
            _ => None,
        };
        let facets = self
            .facets
            .iter()
            .map(|c| str_of(c.as_ref(), doc, &mut self.buf))
            .collect();
        self.rows.push(Row {
            id,
            score,
            key: self.key.as_ref().and_then(|c| c.first(doc)),
            at,
            facets,
        });
    }

    fn harvest(self) -> Vec<Row> {
        self.rows
    }
}

/// The clauses of the query text: each must match; a clause is one word, or a synonym
/// group (any member, each member's words all).
fn text_clauses(spec: &IndexSpec, seg: &Segmenter, text: &str) -> Vec<Vec<Vec<String>>> {
    let mut terms = seg.terms(truncate_query(text));
    terms.truncate(MAX_QUERY_TERMS);
    let groups: Vec<Vec<Vec<String>>> = spec
        .synonyms
        .iter()
        .map(|g| {
            g.iter()
                .map(|m| seg.terms(m))
                .filter(|t| !t.is_empty())
                .collect()
        })
        .collect();
    let mut clauses = Vec::new();
    let mut i = 0;
    while i < terms.len() {
        // The longest member of any group that the words starting here spell.
        let mut best: Option<(usize, &Vec<Vec<String>>)> = None;
        for group in &groups {
            for member in group {
                let n = member.len();
                if terms.get(i..i + n) == Some(member.as_slice())
                    && best.is_none_or(|(len, _)| n > len)
                {
                    best = Some((n, group));
                }
            }
        }
        match best {
            Some((n, group)) => {
                clauses.push(group.clone());
                i += n;
            }
            None => {
                clauses.push(vec![vec![terms[i].clone()]]);
                i += 1;
            }
        }
    }
    clauses
}

fn boxed(q: impl TQuery) -> Box<dyn TQuery> {
    Box::new(q)
}

/// A word found in any text field (earlier fields weigh more) or in `_parts`.
fn word_query(fields: &Fields, word: &str) -> Box<dyn TQuery> {
    let n = fields.text.len();
    let mut any: Vec<(Occur, Box<dyn TQuery>)> = fields
        .text
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let boost = (1u32 << (n - 1 - i).min(16)) as Score;
            let q = TermQuery::new(
                Term::from_field_text(*f, word),
                IndexRecordOption::WithFreqs,
            );
            (Occur::Should, boxed(BoostQuery::new(boxed(q), boost)))
        })
        .collect();
    let q = TermQuery::new(
        Term::from_field_text(fields.parts, word),
        IndexRecordOption::WithFreqs,
    );
    any.push((Occur::Should, boxed(BoostQuery::new(boxed(q), PARTS_BOOST))));
    boxed(BooleanQuery::new(any))
}

fn filter(q: impl TQuery) -> (Occur, Box<dyn TQuery>) {
    (Occur::Must, boxed(ConstScoreQuery::new(boxed(q), 0.0)))
}

fn bound<T>(v: Option<T>) -> Bound<T> {
    v.map_or(Bound::Unbounded, Bound::Included)
}

fn build_query(spec: &IndexSpec, slot: &Slot, query: &Query) -> Box<dyn TQuery> {
    let fields = &slot.fields;
    let mut must: Vec<(Occur, Box<dyn TQuery>)> = Vec::new();
    for clause in text_clauses(spec, &slot.seg, &query.text) {
        let members: Vec<(Occur, Box<dyn TQuery>)> = clause
            .iter()
            .map(|words| {
                let all = words
                    .iter()
                    .map(|w| (Occur::Must, word_query(fields, w)))
                    .collect();
                (Occur::Should, boxed(BooleanQuery::new(all)))
            })
            .collect();
        must.push((Occur::Must, boxed(BooleanQuery::new(members))));
    }
    for f in &query.filters {
        match f {
            Filter::Is(name, value) => {
                let Some(field) = field_of(&fields.keywords, name) else {
                    return boxed(EmptyQuery);
                };
                must.push(filter(TermQuery::new(
                    Term::from_field_text(field, value),
                    IndexRecordOption::Basic,
                )));
            }
            Filter::Between(name, lo, hi) => {
                let Some(field) = field_of(&fields.numbers, name) else {
                    return boxed(EmptyQuery);
                };
                if lo.is_some() || hi.is_some() {
                    must.push(filter(RangeQuery::new(
                        bound(lo.map(|v| Term::from_field_i64(field, v))),
                        bound(hi.map(|v| Term::from_field_i64(field, v))),
                    )));
                }
            }
            Filter::Flag(name, value) => {
                let Some(field) = field_of(&fields.flags, name) else {
                    return boxed(EmptyQuery);
                };
                must.push(filter(TermQuery::new(
                    Term::from_field_bool(field, *value),
                    IndexRecordOption::Basic,
                )));
            }
        }
    }
    if let Some(near) = &query.near
        && let Some(radius) = near.within_m
    {
        // A box a little larger than the circle; the exact distance decides afterwards.
        let dlat = (radius / EARTH_RADIUS_M).to_degrees() * 1.01 + 1e-6;
        let cos = near.at.lat.to_radians().cos().max(1e-6);
        let dlng = ((radius / EARTH_RADIUS_M).to_degrees() / cos * 1.01 + 1e-6).min(360.0);
        must.push(filter(RangeQuery::new(
            Bound::Included(Term::from_field_f64(fields.lat, near.at.lat - dlat)),
            Bound::Included(Term::from_field_f64(fields.lat, near.at.lat + dlat)),
        )));
        // Near the antimeridian the box would wrap: leave longitude to the exact check.
        if near.at.lng - dlng > -180.0 && near.at.lng + dlng < 180.0 {
            must.push(filter(RangeQuery::new(
                Bound::Included(Term::from_field_f64(fields.lng, near.at.lng - dlng)),
                Bound::Included(Term::from_field_f64(fields.lng, near.at.lng + dlng)),
            )));
        }
    }
    if must.is_empty() {
        boxed(AllQuery)
    } else {
        boxed(BooleanQuery::new(must))
    }
}

/// Orders `a` before `b`: missing values last, then better score, then smaller id.
fn order(query: &Query, a: &(Row, Option<f64>), b: &(Row, Option<f64>)) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    fn missing_last<T: PartialOrd>(x: Option<T>, y: Option<T>, desc: bool) -> Ordering {
        match (x, y) {
            (Some(x), Some(y)) => {
                let o = x.partial_cmp(&y).unwrap_or(Ordering::Equal);
                if desc { o.reverse() } else { o }
            }
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }
    let first = match query.sort {
        Sort::Relevance => Ordering::Equal,
        Sort::Asc(_) => missing_last(a.0.key, b.0.key, false),
        Sort::Desc(_) => missing_last(a.0.key, b.0.key, true),
        Sort::Distance => missing_last(a.1, b.1, false),
    };
    first
        .then_with(|| b.0.score.partial_cmp(&a.0.score).unwrap_or(Ordering::Equal))
        .then_with(|| a.0.id.cmp(&b.0.id))
}

fn run_search(spec: &IndexSpec, slot: &Slot, query: &Query) -> Result<Hits, PortError> {
    if query.near.as_ref().is_some_and(|n| !near_is_satisfiable(n)) {
        return Ok(Hits::default());
    }
    let live = slot.live();
    let searcher = live.reader.searcher();
    let key = match query.sort {
        Sort::Asc(k) | Sort::Desc(k) => Some(k),
        _ => None,
    };
    let collector = Rows {
        key,
        facets: query.facets.clone(),
    };
    let rows = searcher
        .search(&*build_query(spec, slot, query), &collector)
        .map_err(err)?;
    let mut rows: Vec<(Row, Option<f64>)> = rows
        .into_iter()
        .filter_map(|row| match &query.near {
            None => Some((row, None)),
            Some(near) => {
                let d = row.at.map(|at| distance_m(near.at, at));
                match (near.within_m, d) {
                    (None, _) => Some((row, d)),
                    (Some(r), Some(d)) if d <= r => Some((row, Some(d))),
                    _ => None,
                }
            }
        })
        .collect();
    let mut facets: BTreeMap<String, BTreeMap<String, u64>> = query
        .facets
        .iter()
        .map(|f| (f.to_string(), BTreeMap::new()))
        .collect();
    for (row, _) in &rows {
        for (name, value) in query.facets.iter().zip(&row.facets) {
            if let (Some(counts), Some(value)) = (facets.get_mut(*name), value) {
                *counts.entry(value.clone()).or_default() += 1;
            }
        }
    }
    for counts in facets.values_mut() {
        while counts.len() > MAX_FACET_VALUES {
            counts.pop_last();
        }
    }
    rows.sort_by(|a, b| order(query, a, b));
    let total = rows.len() as u64;
    let start = query.offset.min(MAX_REACHABLE_HITS);
    let end = start
        .saturating_add(query.limit.min(MAX_LIMIT))
        .min(MAX_REACHABLE_HITS);
    let hits = rows
        .into_iter()
        .skip(start)
        .take(end - start)
        .map(|(row, d)| Hit {
            id: row.id,
            distance_m: d,
        })
        .collect();
    Ok(Hits {
        hits,
        estimated_total: total,
        facets,
    })
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
