//! The search port on a Meilisearch server, through `meilisearch-sdk`.
//!
//! # Settings ([`SearchIndex::prepare`])
//! An index `<prefix><name>` with primary key `id`. Searchable: the spec's text fields in
//! order, then `_parts` (the parts of dictionary words, see [`super::segment`]). Filterable:
//! `id`, `version`, `_written_at`, keywords, numbers, flags and `_geo`; sortable: `id`,
//! numbers and `_geo`. Ranking rules `sort, words, typo, proximity, attribute, exactness,
//! id:asc`: an explicit sort is strict, relevance decides otherwise, and the id breaks the
//! last ties, so paging is stable. Synonyms map every member of a group to the others;
//! `localizedAttributes` marks the text fields `cmn`, so short Chinese text is never read as
//! Japanese; `dictionary` holds the spec's words. Typo tolerance and prefix search are off:
//! the embedded engine has neither, specifications like `C30` and `C35` must not match each
//! other, and a Chinese word of two characters has no room for a typo anyway. Each call waits
//! for its task; applying the same settings again changes nothing (idempotent).
//!
//! # Queries
//! Filters are built only from the spec's declared field names and the caller's values
//! quoted and escaped (numbers written as integers); caller text never becomes filter
//! syntax. The query text is truncated to [`MAX_QUERY_CHARS`], its phrase quotes and
//! leading `-` (Meilisearch's only query syntax) become spaces, and every word must match
//! (`matchingStrategy: all`). Meilisearch reads at most the first 10 words of a query
//! ([`MAX_QUERY_TERMS`]). Distances are computed here with
//! [`crate::ports::geo::distance_m`] from each hit's `_geo`, as the embedded engine does.
//!
//! # Versions
//! [`SearchIndex::upsert`] reads the stored versions of the ids, drops the documents that
//! are older, writes the rest and waits for the task. Two processes writing the same id at
//! once can interleave between the read and the write, so the guard is not atomic here; the
//! job handler that writes re-reads its row after the write and writes again if the row
//! moved on (see the port's module doc), so the index converges on the newest version.
//! Every written document carries `_written_at` (milliseconds) for the rebuild.
//!
//! # Rebuild
//! The documents go into `<prefix><name>_rebuild_<random>` with the same settings, then one
//! `swap-indexes` task exchanges it with the live index, then the old contents (now under
//! the rebuild's name) are searched for documents written since the rebuild started
//! (`_written_at`, less [`REBUILD_CLOCK_SLACK`] for clocks) that are newer than what the
//! rebuild wrote or absent from it;
//! those are copied into the live index, version-guarded, and the old index is deleted. So
//! writes from any process during a rebuild survive the swap. A delete during a rebuild
//! can be undone by it; deletes are rare purges.
//!
//! # Time
//! Every HTTP request has a deadline of [`REQUEST_TIMEOUT`] (an unreachable or hung server
//! fails fast as a [`PortError`]); waiting for a task has [`TASK_TIMEOUT`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use meilisearch_sdk::client::{Client, SwapIndexes};
use meilisearch_sdk::documents::DocumentsQuery;
use meilisearch_sdk::errors::{Error as MeiliError, ErrorCode};
use meilisearch_sdk::indexes::Index;
use meilisearch_sdk::search::{MatchingStrategies, Selectors};
use meilisearch_sdk::settings::{
    FacetingSettings, LocalizedAttributes, PaginationSetting, PrefixSearchSettings, Settings,
    TypoToleranceSettings,
};
use meilisearch_sdk::task_info::TaskInfo;
use meilisearch_sdk::tasks::Task;
use serde_json::{Map, Value as Json, json};

use super::segment::Segmenter;
use super::{
    Document, Filter, Hit, Hits, IndexSpec, MAX_FACET_VALUES, MAX_LIMIT, MAX_QUERY_CHARS,
    MAX_QUERY_TERMS, MAX_REACHABLE_HITS, Query, SearchIndex, Sort, Value, near_is_satisfiable,
    truncate_query,
};
use crate::ports::PortError;
use crate::ports::geo::{Position, distance_m};

const BACKEND: &str = "meilisearch";

/// The deadline of one HTTP request to Meilisearch.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a write waits for Meilisearch to apply its task.
pub const TASK_TIMEOUT: Duration = Duration::from_secs(60);

/// How often a task's state is asked for while waiting.
const TASK_POLL: Duration = Duration::from_millis(20);

/// Ids per version lookup (each becomes a quoted value of an `id IN [...]` filter).
const IDS_PER_LOOKUP: usize = 200;

/// Clock allowance when a rebuild looks for documents written while it ran: the clocks of
/// the processes writing to one Meilisearch must agree within it (NTP keeps them within
/// milliseconds). A document written by another process this long before the rebuild
/// began, and absent from the rebuild's stream, is carried over too.
pub const REBUILD_CLOCK_SLACK: Duration = Duration::from_secs(1);

// Meilisearch reads the first ten words of a query: the embedded engine must read as many.
const _: () = assert!(MAX_QUERY_TERMS == 10 && MAX_QUERY_CHARS > 0);

fn err(e: impl std::fmt::Display) -> PortError {
    PortError::backend(BACKEND, e)
}

/// Runs one request with the deadline.
async fn timed<T>(
    what: &str,
    f: impl std::future::Future<Output = Result<T, MeiliError>>,
) -> Result<T, PortError> {
    match tokio::time::timeout(REQUEST_TIMEOUT, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(err(format!("{what}: {e}"))),
        Err(_) => Err(err(format!(
            "{what}: no answer within {} ms",
            REQUEST_TIMEOUT.as_millis()
        ))),
    }
}

/// Where and how to reach Meilisearch.
#[derive(Clone)]
pub struct MeiliConfig {
    /// The server's URL (`http://meilisearch:7700`).
    pub url: String,
    /// The master key (or a key allowed to manage indexes, documents, settings and tasks).
    pub key: Option<String>,
    /// Prepended to every index name (`wufei_`), so several deployments or tests can share
    /// one server. Letters, digits, `-` and `_` only.
    pub index_prefix: String,
}

impl std::fmt::Debug for MeiliConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeiliConfig")
            .field("url", &self.url)
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("index_prefix", &self.index_prefix)
            .finish()
    }
}

/// A [`SearchIndex`] on Meilisearch. Cheap to clone.
#[derive(Clone)]
pub struct MeiliSearch {
    client: Client,
    prefix: String,
    segmenters: Arc<Mutex<HashMap<&'static str, Arc<Segmenter>>>>,
}

impl std::fmt::Debug for MeiliSearch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeiliSearch")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl MeiliSearch {
    /// A client for `config` (no request is made until used).
    pub fn new(config: &MeiliConfig) -> Result<Self, PortError> {
        let prefix_ok = config
            .index_prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && config.index_prefix.len() <= 200;
        if !prefix_ok {
            return Err(err("index prefix: letters, digits, - and _ only"));
        }
        // The SDK builds its Authorization header with an unwrap: refuse what it cannot hold.
        if let Some(key) = &config.key
            && !key.bytes().all(|b| (0x21..0x7f).contains(&b))
        {
            return Err(err("MEILI_MASTER_KEY: printable ASCII without spaces only"));
        }
        let url = config.url.trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(err("MEILI_URL must start with http:// or https://"));
        }
        let client = Client::new(url, config.key.as_deref()).map_err(err)?;
        Ok(Self {
            client,
            prefix: config.index_prefix.clone(),
            segmenters: Arc::default(),
        })
    }

    fn uid(&self, spec: &IndexSpec) -> String {
        format!("{}{}", self.prefix, spec.name)
    }

    fn segmenter(&self, spec: &IndexSpec) -> Arc<Segmenter> {
        let mut map = self
            .segmenters
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        map.entry(spec.name)
            .or_insert_with(|| Arc::new(Segmenter::new(spec.dictionary)))
            .clone()
    }

    /// Waits for a task to finish; its failure is an error.
    async fn wait(&self, what: &str, task: TaskInfo) -> Result<(), PortError> {
        self.wait_allowing(what, task, None).await
    }

    /// Waits for a task; a failure with code `allowed` counts as success.
    async fn wait_allowing(
        &self,
        what: &str,
        task: TaskInfo,
        allowed: Option<ErrorCode>,
    ) -> Result<(), PortError> {
        let deadline = Instant::now() + TASK_TIMEOUT;
        loop {
            match timed(what, self.client.get_task(&task)).await? {
                Task::Succeeded { .. } => return Ok(()),
                Task::Failed { content } => {
                    if allowed.as_ref() == Some(&content.error.error_code) {
                        return Ok(());
                    }
                    return Err(err(format!("{what}: {}", content.error.error_message)));
                }
                Task::Enqueued { .. } | Task::Processing { .. } => {}
            }
            if Instant::now() >= deadline {
                return Err(err(format!(
                    "{what}: task {} not done within {} s",
                    task.task_uid,
                    TASK_TIMEOUT.as_secs()
                )));
            }
            tokio::time::sleep(TASK_POLL).await;
        }
    }

    /// Creates `uid` (if missing) and applies the settings of `spec`.
    async fn create_with_settings(&self, uid: &str, spec: &IndexSpec) -> Result<(), PortError> {
        let task = timed("create index", self.client.create_index(uid, Some("id"))).await?;
        self.wait_allowing("create index", task, Some(ErrorCode::IndexAlreadyExists))
            .await?;
        let index = self.client.index(uid);
        let task = timed("settings", index.set_settings(&settings(spec))).await?;
        self.wait("settings", task).await?;
        let task = timed(
            "prefix search",
            index.set_prefix_search(PrefixSearchSettings::Disabled),
        )
        .await?;
        self.wait("prefix search", task).await
    }

    /// The stored versions of `ids` in `index`.
    async fn versions(
        &self,
        index: &Index,
        ids: &[&str],
    ) -> Result<HashMap<String, i64>, PortError> {
        #[derive(serde::Deserialize)]
        struct Stored {
            id: String,
            version: i64,
        }
        let mut found = HashMap::new();
        for chunk in ids.chunks(IDS_PER_LOOKUP) {
            let filter = format!(
                "id IN [{}]",
                chunk
                    .iter()
                    .map(|id| quote(id))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut q = DocumentsQuery::new(index);
            q.with_filter(&filter)
                .with_fields(["id", "version"])
                .with_limit(chunk.len());
            let page = timed("read versions", q.execute::<Stored>()).await?;
            for s in page.results {
                found.insert(s.id, s.version);
            }
        }
        Ok(found)
    }

    /// Writes the documents (JSON, with `id` and `version`) to `index` unless it holds a
    /// newer version of the id; waits for the task. Returns how many were written.
    async fn write_guarded(
        &self,
        index: &Index,
        docs: Vec<Map<String, Json>>,
    ) -> Result<u64, PortError> {
        let mut newest: BTreeMap<String, Map<String, Json>> = BTreeMap::new();
        for doc in docs {
            let (Some(id), Some(v)) = (doc_id(&doc), doc_version(&doc)) else {
                continue;
            };
            if newest
                .get(&id)
                .and_then(doc_version)
                .is_none_or(|held| held <= v)
            {
                newest.insert(id, doc);
            }
        }
        let ids: Vec<&str> = newest.keys().map(String::as_str).collect();
        let held = self.versions(index, &ids).await?;
        let fresh: Vec<Map<String, Json>> = newest
            .into_iter()
            .filter(|(id, doc)| {
                let v = doc_version(doc).unwrap_or(i64::MIN);
                held.get(id).is_none_or(|h| *h <= v)
            })
            .map(|(_, doc)| doc)
            .collect();
        if fresh.is_empty() {
            return Ok(0);
        }
        let n = fresh.len() as u64;
        let task = timed("add documents", index.add_or_replace(&fresh, Some("id"))).await?;
        self.wait("add documents", task).await?;
        Ok(n)
    }

    /// The documents of `index` matching `filter`, whole, a page at a time.
    async fn all_matching(
        &self,
        index: &Index,
        filter: &str,
    ) -> Result<Vec<Map<String, Json>>, PortError> {
        const PAGE: usize = 1000;
        let mut out = Vec::new();
        loop {
            let mut q = DocumentsQuery::new(index);
            q.with_filter(filter)
                .with_offset(out.len())
                .with_limit(PAGE);
            let page = timed("read documents", q.execute::<Map<String, Json>>()).await?;
            let n = page.results.len();
            out.extend(page.results);
            if n < PAGE {
                return Ok(out);
            }
        }
    }

    async fn delete_index(&self, uid: &str) -> Result<(), PortError> {
        let task = timed("delete index", self.client.delete_index(uid)).await?;
        self.wait_allowing("delete index", task, Some(ErrorCode::IndexNotFound))
            .await
    }

    /// Writes the stream into the fresh index `uid`; returns how many documents were
    /// written and the version written for each id.
    async fn fill(
        &self,
        uid: &str,
        spec: &IndexSpec,
        mut docs: BoxStream<'_, Result<Vec<Document>, PortError>>,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<(u64, HashMap<String, i64>), PortError> {
        let index = self.client.index(uid);
        let seg = self.segmenter(spec);
        let mut versions: HashMap<String, i64> = HashMap::new();
        let mut written = 0;
        while let Some(batch) = docs.next().await {
            let batch = batch?;
            let mut fresh = Vec::new();
            for doc in &batch {
                spec.check_document(doc)?;
                if versions.get(&doc.id).is_some_and(|v| *v > doc.version) {
                    continue;
                }
                versions.insert(doc.id.clone(), doc.version);
                fresh.push(to_json(spec, &seg, doc));
            }
            if !fresh.is_empty() {
                written += fresh.len() as u64;
                let task = timed("add documents", index.add_or_replace(&fresh, Some("id"))).await?;
                self.wait("add documents", task).await?;
            }
            progress(written);
        }
        Ok((written, versions))
    }
}

/// A string as a quoted filter value.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn doc_id(doc: &Map<String, Json>) -> Option<String> {
    doc.get("id")?.as_str().map(str::to_string)
}

fn doc_version(doc: &Map<String, Json>) -> Option<i64> {
    doc.get("version")?.as_i64()
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn to_json(spec: &IndexSpec, seg: &Segmenter, doc: &Document) -> Map<String, Json> {
    let mut out = Map::new();
    out.insert("id".into(), json!(doc.id));
    out.insert("version".into(), json!(doc.version));
    for (name, value) in &doc.fields {
        let v = match value {
            Value::Text(s) => json!(s),
            Value::Number(n) => json!(n),
            Value::Flag(b) => json!(b),
        };
        out.insert((*name).to_string(), v);
    }
    let texts = spec.text.iter().filter_map(|f| match doc.fields.get(f) {
        Some(Value::Text(s)) => Some(s.as_str()),
        _ => None,
    });
    if let Some(parts) = seg.parts(texts) {
        out.insert("_parts".into(), json!(parts));
    }
    if let Some(at) = doc.geo {
        out.insert("_geo".into(), json!({ "lat": at.lat, "lng": at.lng }));
    }
    out.insert("_written_at".into(), json!(now_ms()));
    out
}

fn settings(spec: &IndexSpec) -> Settings {
    let owned = |list: &[&str]| list.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
    let mut searchable = owned(spec.text);
    searchable.push("_parts".into());
    let mut filterable = vec!["id".to_string(), "version".into(), "_written_at".into()];
    filterable.extend(owned(spec.keywords));
    filterable.extend(owned(spec.numbers));
    filterable.extend(owned(spec.flags));
    let mut sortable = vec!["id".to_string()];
    sortable.extend(owned(spec.numbers));
    if spec.geo {
        filterable.push("_geo".into());
        sortable.push("_geo".into());
    }
    let mut synonyms: HashMap<String, Vec<String>> = HashMap::new();
    for group in spec.synonyms {
        for member in *group {
            let others = group
                .iter()
                .filter(|m| *m != member)
                .map(|m| (*m).to_string());
            synonyms
                .entry((*member).to_string())
                .or_default()
                .extend(others);
        }
    }
    for list in synonyms.values_mut() {
        list.sort();
        list.dedup();
    }
    Settings::new()
        .with_searchable_attributes(searchable.clone())
        .with_filterable_attributes(filterable)
        .with_sortable_attributes(sortable)
        .with_ranking_rules([
            "sort",
            "words",
            "typo",
            "proximity",
            "attribute",
            "exactness",
            "id:asc",
        ])
        .with_synonyms(synonyms)
        .with_dictionary(owned(spec.dictionary))
        .with_localized_attributes([LocalizedAttributes {
            locales: vec!["cmn".into()],
            attribute_patterns: searchable,
        }])
        .with_typo_tolerance(TypoToleranceSettings {
            enabled: Some(false),
            ..TypoToleranceSettings::default()
        })
        .with_pagination(PaginationSetting {
            max_total_hits: MAX_REACHABLE_HITS,
        })
        .with_faceting(FacetingSettings {
            max_values_per_facet: MAX_FACET_VALUES,
            sort_facet_values_by: None,
        })
}

/// The query text without Meilisearch's query syntax (phrase quotes, a word's leading `-`).
fn plain_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word_start = true;
    for c in truncate_query(text).chars() {
        let c = if c == '"' || (c == '-' && word_start) {
            ' '
        } else {
            c
        };
        word_start = c.is_whitespace();
        out.push(c);
    }
    out
}

/// The filter expression of `query`: declared names, quoted values, integers.
fn filter_of(query: &Query) -> Option<String> {
    let mut parts = Vec::new();
    for f in &query.filters {
        match f {
            Filter::Is(field, value) => parts.push(format!("{field} = {}", quote(value))),
            Filter::Between(field, lo, hi) => {
                if let Some(lo) = lo {
                    parts.push(format!("{field} >= {lo}"));
                }
                if let Some(hi) = hi {
                    parts.push(format!("{field} <= {hi}"));
                }
            }
            Filter::Flag(field, value) => parts.push(format!("{field} = {value}")),
        }
    }
    if let Some(near) = &query.near
        && let Some(r) = near.within_m
    {
        parts.push(format!(
            "_geoRadius({:.7}, {:.7}, {:.3})",
            near.at.lat, near.at.lng, r
        ));
    }
    (!parts.is_empty()).then(|| parts.join(" AND "))
}

fn sort_of(query: &Query) -> Vec<String> {
    let first = match (query.sort, &query.near) {
        (Sort::Asc(f), _) => format!("{f}:asc"),
        (Sort::Desc(f), _) => format!("{f}:desc"),
        (Sort::Distance, Some(near)) => {
            format!("_geoPoint({:.7}, {:.7}):asc", near.at.lat, near.at.lng)
        }
        _ => return Vec::new(),
    };
    vec![first, "id:asc".into()]
}

#[derive(serde::Deserialize)]
struct Found {
    id: String,
    #[serde(rename = "_geo")]
    geo: Option<Position>,
}

#[async_trait]
impl SearchIndex for MeiliSearch {
    fn backend(&self) -> &'static str {
        "meilisearch"
    }

    async fn prepare(&self, spec: &IndexSpec) -> Result<(), PortError> {
        spec.check()?;
        self.create_with_settings(&self.uid(spec), spec).await
    }

    async fn ready(&self) -> Result<(), PortError> {
        let health = timed("health", self.client.health()).await?;
        if health.status == "available" {
            Ok(())
        } else {
            Err(err(format!("health: {}", health.status)))
        }
    }

    async fn upsert(&self, spec: &IndexSpec, docs: Vec<Document>) -> Result<(), PortError> {
        spec.check()?;
        for doc in &docs {
            spec.check_document(doc)?;
        }
        if docs.is_empty() {
            return Ok(());
        }
        let seg = self.segmenter(spec);
        let docs = docs.iter().map(|d| to_json(spec, &seg, d)).collect();
        self.write_guarded(&self.client.index(self.uid(spec)), docs)
            .await
            .map(|_| ())
    }

    async fn version_of(&self, spec: &IndexSpec, id: &str) -> Result<Option<i64>, PortError> {
        spec.check()?;
        if !super::valid_id(id) {
            return Ok(None);
        }
        let found = self
            .versions(&self.client.index(self.uid(spec)), &[id])
            .await?;
        Ok(found.get(id).copied())
    }

    async fn delete(&self, spec: &IndexSpec, ids: Vec<String>) -> Result<(), PortError> {
        spec.check()?;
        let ids: Vec<String> = ids.into_iter().filter(|id| super::valid_id(id)).collect();
        if ids.is_empty() {
            return Ok(());
        }
        let index = self.client.index(self.uid(spec));
        let task = timed("delete documents", index.delete_documents(&ids)).await?;
        self.wait("delete documents", task).await
    }

    async fn search(&self, spec: &IndexSpec, query: &Query) -> Result<Hits, PortError> {
        spec.check()?;
        spec.check_query(query)?;
        if query.near.as_ref().is_some_and(|n| !near_is_satisfiable(n)) {
            return Ok(Hits::default());
        }
        let index = self.client.index(self.uid(spec));
        let text = plain_text(&query.text);
        let filter = filter_of(query);
        let sort = sort_of(query);
        let sort: Vec<&str> = sort.iter().map(String::as_str).collect();
        let offset = query.offset.min(MAX_REACHABLE_HITS);
        let limit = query.limit.min(MAX_LIMIT).min(MAX_REACHABLE_HITS - offset);
        let mut attributes = vec!["id"];
        if spec.geo {
            attributes.push("_geo");
        }
        let mut q = index.search();
        q.with_query(&text)
            .with_offset(offset)
            .with_limit(limit)
            .with_matching_strategy(MatchingStrategies::ALL)
            .with_locales(&["cmn"])
            .with_attributes_to_retrieve(Selectors::Some(&attributes));
        if let Some(filter) = &filter {
            q.with_filter(filter);
        }
        if !sort.is_empty() {
            q.with_sort(&sort);
        }
        let facets = query.facets.clone();
        if !facets.is_empty() {
            q.with_facets(Selectors::Some(&facets));
        }
        let found = timed("search", q.execute::<Found>()).await?;
        let hits = found
            .hits
            .into_iter()
            .map(|h| Hit {
                distance_m: match (&query.near, h.result.geo) {
                    (Some(near), Some(at)) => Some(distance_m(near.at, at)),
                    _ => None,
                },
                id: h.result.id,
            })
            .collect();
        let mut counts: BTreeMap<String, BTreeMap<String, u64>> = query
            .facets
            .iter()
            .map(|f| (f.to_string(), BTreeMap::new()))
            .collect();
        for (facet, values) in found.facet_distribution.unwrap_or_default() {
            if let Some(into) = counts.get_mut(&facet) {
                into.extend(values.into_iter().map(|(v, n)| (v, n as u64)));
            }
        }
        Ok(Hits {
            hits,
            estimated_total: found.estimated_total_hits.unwrap_or_default() as u64,
            facets: counts,
        })
    }

    async fn rebuild(
        &self,
        spec: &IndexSpec,
        docs: BoxStream<'_, Result<Vec<Document>, PortError>>,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<u64, PortError> {
        spec.check()?;
        let live = self.uid(spec);
        let aside = format!(
            "{live}_rebuild_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let slack = i64::try_from(REBUILD_CLOCK_SLACK.as_millis()).unwrap_or(i64::MAX);
        let started = now_ms().saturating_sub(slack);
        let built = async {
            self.create_with_settings(&live, spec).await?;
            self.create_with_settings(&aside, spec).await?;
            let filled = self.fill(&aside, spec, docs, progress).await?;
            let task = timed(
                "swap indexes",
                self.client.swap_indexes([&SwapIndexes {
                    indexes: (live.clone(), aside.clone()),
                    rename: None,
                }]),
            )
            .await?;
            self.wait("swap indexes", task).await?;
            Ok(filled)
        }
        .await;
        let (written, versions) = match built {
            Ok(filled) => filled,
            Err(e) => {
                if let Err(cleanup) = self.delete_index(&aside).await {
                    tracing::warn!(index = %aside, error = %cleanup, "search: deleting an abandoned rebuild");
                }
                return Err(e);
            }
        };
        // `aside` now holds what was live: carry over what was written while we built.
        let old = self.client.index(&aside);
        let meanwhile = self
            .all_matching(&old, &format!("_written_at >= {started}"))
            .await?;
        let newer: Vec<Map<String, Json>> = meanwhile
            .into_iter()
            .filter(|doc| match (doc_id(doc), doc_version(doc)) {
                (Some(id), Some(v)) => versions.get(&id).is_none_or(|w| *w < v),
                _ => false,
            })
            .collect();
        if !newer.is_empty() {
            self.write_guarded(&self.client.index(&live), newer).await?;
        }
        self.delete_index(&aside).await?;
        Ok(written)
    }
}
