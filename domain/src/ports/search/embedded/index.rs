//! One index on disk: its lock, its live generation, its writes, and rebuilding beside it.

use super::{schema::*, *};

// ---- one index: its lock, its live generation, its writes ------------------------------

/// The pointer file's content.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct Pointer {
    pub(super) generation: String,
    pub(super) spec: String,
}

/// What identifies the way documents of `spec` are written: a change means a new index.
pub(super) fn fingerprint(spec: &IndexSpec) -> String {
    format!(
        "layout {LAYOUT}; text {:?}; keywords {:?}; numbers {:?}; flags {:?}; geo {}; dictionary {:?}",
        spec.text, spec.keywords, spec.numbers, spec.flags, spec.geo, spec.dictionary
    )
}

/// One generation, open.
pub(super) struct Generation {
    pub(super) name: String,
    pub(super) reader: IndexReader,
    /// Taken only under [`Slot::writes`] (or by the rebuild that owns the generation).
    pub(super) writer: Mutex<Option<IndexWriter>>,
}

impl Generation {
    pub(super) fn open(
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
    pub(super) fn write(
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

    pub(super) fn commit(&self) -> Result<(), PortError> {
        let mut guard = lock(&self.writer);
        let writer = guard.as_mut().ok_or_else(|| err("index writer closed"))?;
        writer.commit().map_err(err)?;
        self.reader.reload().map_err(err)
    }

    pub(super) fn delete(&self, fields: &Fields, ids: &[String]) -> Result<(), PortError> {
        let mut guard = lock(&self.writer);
        let writer = guard.as_mut().ok_or_else(|| err("index writer closed"))?;
        for id in ids {
            writer.delete_term(Term::from_field_text(fields.id, id));
        }
        Ok(())
    }

    /// The version this generation's last reload holds for `id`.
    pub(super) fn version_of(&self, fields: &Fields, id: &str) -> Result<Option<i64>, PortError> {
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
    pub(super) fn retire(&self, dir: &Path) {
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
pub(super) enum Change {
    Upsert(Vec<Document>),
    Delete(Vec<String>),
}

/// One open index.
pub(super) struct Slot {
    pub(super) dir: PathBuf,
    pub(super) spec_key: String,
    pub(super) seg: Arc<Segmenter>,
    pub(super) fields: Fields,
    pub(super) live: RwLock<Arc<Generation>>,
    /// Serialises writes; holds the changes made during a rebuild.
    pub(super) writes: Mutex<Option<Vec<Change>>>,
    /// One rebuild at a time.
    pub(super) rebuilding: tokio::sync::Mutex<()>,
    pub(super) _lock: DirectoryLock,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

pub(super) fn read_pointer(dir: &Path) -> Option<Pointer> {
    let bytes = std::fs::read(dir.join("current")).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Replaces the pointer file atomically (write beside, sync, rename, sync the directory).
pub(super) fn write_pointer(dir: &Path, pointer: &Pointer) -> Result<(), PortError> {
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

pub(super) fn new_generation_name() -> String {
    format!("g-{}", uuid::Uuid::new_v4().simple())
}

impl Slot {
    pub(super) fn open(dir: &Path, spec: &IndexSpec) -> Result<Self, PortError> {
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

    pub(super) fn live(&self) -> Arc<Generation> {
        self.live
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(super) fn upsert(&self, spec: &IndexSpec, docs: Vec<Document>) -> Result<(), PortError> {
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

    pub(super) fn delete(&self, ids: Vec<String>) -> Result<(), PortError> {
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
pub(super) struct Building {
    pub(super) slot: Arc<Slot>,
    pub(super) generation: Arc<Generation>,
    pub(super) versions: HashMap<String, i64>,
    pub(super) written: u64,
}

impl Building {
    pub(super) fn write(&mut self, spec: &IndexSpec, docs: &[Document]) -> Result<(), PortError> {
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
    pub(super) fn swap(mut self, spec: &IndexSpec) -> Result<u64, PortError> {
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
    pub(super) fn abandon(self) {
        lock(&self.slot.writes).take();
        self.generation.retire(&self.slot.dir);
    }
}
