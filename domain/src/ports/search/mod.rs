//! The search port: full-text search with Chinese segmentation, filters, facets, geo
//! distance and sorting, over indexes whose documents the database owns.
//!
//! The database is the source of truth; an index is a projection that can be rebuilt from
//! it at any time ([`SearchIndex::rebuild`]). Index writes never happen inside a request:
//! a capability stages a job through the outbox, and the job handler writes the current
//! state of the row with its version ([`Document::version`]). An adapter never lets an
//! older version replace a newer one it has already applied; where the engine cannot make
//! that check atomic (Meilisearch), the job handler re-reads the row after its write and
//! writes again if the row moved on, so the index converges on the newest version.
//!
//! Documents are never deleted to hide them: a capability keeps a flag (for listings,
//! `published`) and filters on it, so versions stay monotonic per document and a late write
//! cannot resurrect a hidden one. [`SearchIndex::delete`] is for purging rows that no longer
//! exist.
//!
//! Adapters: [`embedded::EmbeddedSearch`] (tantivy with charabia's segmentation, under
//! `WUFEI_DATA_DIR`) and [`meili::MeiliSearch`] (a Meilisearch server). Both pass
//! `domain/tests/search_conformance.rs`.

pub mod embedded;
pub mod meili;
pub mod segment;

use std::collections::BTreeMap;

use async_trait::async_trait;
use futures::stream::BoxStream;

use super::PortError;
use super::geo::Position;

/// The longest query text an adapter accepts, in characters; callers refuse longer input
/// with a 422 before it reaches the port, and adapters truncate defensively.
pub const MAX_QUERY_CHARS: usize = 200;

/// The most hits one page can ask for.
pub const MAX_LIMIT: usize = 100;

/// The most words of a query that count: Meilisearch reads only the first ten words of a
/// query, so the embedded engine does the same and both find the same documents.
pub const MAX_QUERY_TERMS: usize = 10;

/// Hits past this position are never returned, however the query pages (Meilisearch's
/// `pagination.maxTotalHits`, which the adapter sets to this; the embedded engine stops
/// at the same place). [`Hits::estimated_total`] may still count more.
pub const MAX_REACHABLE_HITS: usize = 10_000;

/// The most values a facet reports (in byte order of the value; Meilisearch's
/// `faceting.maxValuesPerFacet`, which the adapter sets to this).
pub const MAX_FACET_VALUES: usize = 100;

/// What an index holds and how it may be queried. Field names are plain identifiers
/// (`[a-z_]+`, starting with a letter; `id` and `version` are the adapters', as is any name
/// starting with `_`); every field a [`Query`] names must be declared here, so no caller
/// input ever becomes a field name or a filter expression. The adapters refuse a spec,
/// document or query that breaks these rules with a [`PortError`] (a programming error).
#[derive(Debug, Clone, Copy)]
pub struct IndexSpec {
    /// The index's name (`listings`, `articles`); adapters may prefix it.
    pub name: &'static str,
    /// Searchable text fields, most important first (ranking follows this order). They
    /// are Chinese text, possibly mixed with Latin letters and digits (`C30`, `5-31.5mm`).
    pub text: &'static [&'static str],
    /// Exact-match string fields: filterable and facetable.
    pub keywords: &'static [&'static str],
    /// Integer fields: filterable by range and sortable.
    pub numbers: &'static [&'static str],
    /// Boolean fields: filterable.
    pub flags: &'static [&'static str],
    /// Whether documents carry a position ([`Document::geo`]) for distance filters and sort.
    pub geo: bool,
    /// Groups of terms that mean the same (再生骨料 / 再生集料); a query for one finds all.
    pub synonyms: &'static [&'static [&'static str]],
    /// Trade terms the segmenter must keep whole (再生粗骨料, 透水砖, 路基).
    pub dictionary: &'static [&'static str],
}

/// A field's value in a [`Document`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// A text or keyword field.
    Text(String),
    /// A number field.
    Number(i64),
    /// A flag field.
    Flag(bool),
}

/// One document: the projection of one row.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The row's id (a UUID's hyphenated form: letters, digits and `-` only).
    pub id: String,
    /// The row's version; an adapter ignores a write older than the one it holds.
    pub version: i64,
    /// The fields, each declared in the [`IndexSpec`].
    pub fields: BTreeMap<&'static str, Value>,
    /// Where the thing is, when the spec has `geo`.
    pub geo: Option<Position>,
}

/// A filter on a declared field. Filters are ANDed.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// A keyword field equals this value.
    Is(&'static str, String),
    /// A number field is within these bounds (inclusive; `None` is open).
    Between(&'static str, Option<i64>, Option<i64>),
    /// A flag field has this value.
    Flag(&'static str, bool),
}

/// How hits are ordered. Ties break by id so that paging is stable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sort {
    /// Best match first (with no query text: newest version first is not promised; any
    /// stable order).
    Relevance,
    /// A number field, smallest first.
    Asc(&'static str),
    /// A number field, largest first.
    Desc(&'static str),
    /// Nearest to [`Query::near`] first.
    Distance,
}

/// A point and, optionally, how far from it hits may be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Near {
    /// The point.
    pub at: Position,
    /// Only documents within this many metres (none: no distance filter, only distances).
    pub within_m: Option<f64>,
}

/// A search.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The words looked for; empty matches every document that passes the filters.
    pub text: String,
    /// The filters, ANDed.
    pub filters: Vec<Filter>,
    /// Distance from a point: filters by radius, reports [`Hit::distance_m`], and is what
    /// [`Sort::Distance`] sorts by.
    pub near: Option<Near>,
    /// The order.
    pub sort: Sort,
    /// Hits to skip.
    pub offset: usize,
    /// Hits to return (at most [`MAX_LIMIT`]).
    pub limit: usize,
    /// Keyword fields to count hits by.
    pub facets: Vec<&'static str>,
}

/// One hit.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The document's id.
    pub id: String,
    /// Its distance from [`Query::near`], in metres.
    pub distance_m: Option<f64>,
}

/// A page of hits.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Hits {
    /// The hits, in order.
    pub hits: Vec<Hit>,
    /// How many documents match in all (an estimate on large results).
    pub estimated_total: u64,
    /// For each requested facet field, the number of matching documents per value.
    pub facets: BTreeMap<String, BTreeMap<String, u64>>,
}

/// A full-text index engine.
#[async_trait]
pub trait SearchIndex: Send + Sync {
    /// The adapter's name for logs and `/readyz` (`embedded`, `meilisearch`).
    fn backend(&self) -> &'static str;

    /// Creates the index if it is missing and applies the spec's settings; idempotent, run
    /// at start.
    async fn prepare(&self, spec: &IndexSpec) -> Result<(), PortError>;

    /// Whether the engine answers (for `/readyz`).
    async fn ready(&self) -> Result<(), PortError>;

    /// Writes the documents, each unless the index holds the same id at a newer version;
    /// returns once they are searchable.
    async fn upsert(&self, spec: &IndexSpec, docs: Vec<Document>) -> Result<(), PortError>;

    /// The version the index holds for `id`, if any.
    async fn version_of(&self, spec: &IndexSpec, id: &str) -> Result<Option<i64>, PortError>;

    /// Removes documents whose rows no longer exist; returns once they are gone.
    async fn delete(&self, spec: &IndexSpec, ids: Vec<String>) -> Result<(), PortError>;

    /// Runs a query.
    async fn search(&self, spec: &IndexSpec, query: &Query) -> Result<Hits, PortError>;

    /// Rebuilds the index from `docs` beside the live one and swaps it in; searches keep
    /// answering from the old index until the swap. `progress` is told how many documents
    /// have been written so far. Returns how many were written.
    async fn rebuild(
        &self,
        spec: &IndexSpec,
        docs: BoxStream<'_, Result<Vec<Document>, PortError>>,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<u64, PortError>;

    /// Lets go of what the process holds (the embedded engine's writers and directory
    /// locks) once nothing writes any more, so that the next process can open the same
    /// data directory; a later call reopens what it needs.
    async fn close(&self) {}
}

/// The refusal of a spec, document or query that names what the spec does not declare (a
/// programming error, caught by the caller's tests, never caller input).
pub(crate) fn undeclared(what: impl std::fmt::Display) -> PortError {
    PortError::Backend {
        backend: "search",
        message: what.to_string(),
    }
}

impl IndexSpec {
    /// Every declared field, of any kind.
    fn fields(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.text
            .iter()
            .chain(self.keywords)
            .chain(self.numbers)
            .chain(self.flags)
            .copied()
    }

    /// Whether the spec is usable: a name and fields of `[a-z][a-z0-9_]*` (the adapters
    /// keep names with a leading `_` for themselves, as Meilisearch keeps `_geo`), each
    /// declared once, at least one text field, no empty dictionary word.
    pub(crate) fn check(&self) -> Result<(), PortError> {
        let ident = |s: &str| {
            s.len() <= 64
                && s.starts_with(|c: char| c.is_ascii_lowercase())
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        if !ident(self.name) {
            return Err(undeclared(format!("bad index name {:?}", self.name)));
        }
        let mut seen = std::collections::BTreeSet::new();
        for field in self.fields() {
            if !ident(field) || field == "id" || field == "version" || !seen.insert(field) {
                return Err(undeclared(format!(
                    "index {}: bad or repeated field name {field:?}",
                    self.name
                )));
            }
        }
        if self.text.is_empty() {
            return Err(undeclared(format!("index {}: no text field", self.name)));
        }
        if self.dictionary.iter().any(|w| w.trim().is_empty())
            || self
                .synonyms
                .iter()
                .flat_map(|g| g.iter())
                .any(|w| w.trim().is_empty())
        {
            return Err(undeclared(format!(
                "index {}: empty dictionary word or synonym",
                self.name
            )));
        }
        Ok(())
    }

    /// Whether `doc` fits the spec: an id of letters, digits and `-`, every field declared
    /// with a value of its kind, a valid position exactly when the spec has `geo`.
    pub(crate) fn check_document(&self, doc: &Document) -> Result<(), PortError> {
        if !valid_id(&doc.id) {
            return Err(undeclared(format!(
                "index {}: bad document id {:?}",
                self.name, doc.id
            )));
        }
        for (field, value) in &doc.fields {
            let fits = match value {
                Value::Text(_) => self.text.contains(field) || self.keywords.contains(field),
                Value::Number(_) => self.numbers.contains(field),
                Value::Flag(_) => self.flags.contains(field),
            };
            if !fits {
                return Err(undeclared(format!(
                    "index {}: field {field} is not declared as {value:?} is",
                    self.name
                )));
            }
        }
        if let Some(at) = doc.geo
            && (!self.geo || !at.is_valid())
        {
            return Err(undeclared(format!(
                "index {}: document {} has a position the spec does not take: {at:?}",
                self.name, doc.id
            )));
        }
        Ok(())
    }

    /// Whether `query` names only declared fields of the right kind.
    pub(crate) fn check_query(&self, query: &Query) -> Result<(), PortError> {
        let bad = |what: &str, field: &str| {
            Err(undeclared(format!(
                "index {}: {what} {field} is not declared",
                self.name
            )))
        };
        for filter in &query.filters {
            match filter {
                Filter::Is(f, _) if !self.keywords.contains(f) => return bad("keyword", f),
                Filter::Between(f, _, _) if !self.numbers.contains(f) => {
                    return bad("number", f);
                }
                Filter::Flag(f, _) if !self.flags.contains(f) => return bad("flag", f),
                _ => {}
            }
        }
        match query.sort {
            Sort::Asc(f) | Sort::Desc(f) if !self.numbers.contains(&f) => {
                return bad("sort field", f);
            }
            _ => {}
        }
        if let Some(f) = query.facets.iter().find(|f| !self.keywords.contains(f)) {
            return bad("facet", f);
        }
        if query.near.is_some() && !self.geo {
            return bad("position", "near");
        }
        Ok(())
    }
}

/// Whether `id` is a document id the adapters accept: 1 to 128 ASCII letters, digits and
/// `-` (a UUID's hyphenated form, and never anything a filter could read as syntax).
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// `text` cut to [`MAX_QUERY_CHARS`] characters.
pub(crate) fn truncate_query(text: &str) -> &str {
    match text.char_indices().nth(MAX_QUERY_CHARS) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// Whether `near` can match anything: a valid point and a radius that is finite and not
/// negative. One that cannot finds nothing in every adapter.
pub(crate) fn near_is_satisfiable(near: &Near) -> bool {
    near.at.is_valid() && near.within_m.is_none_or(|r| r.is_finite() && r >= 0.0)
}
