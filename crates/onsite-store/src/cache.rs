//! Loading documents from their rows, and the in-memory cache of loaded documents.
//!
//! The cache only ever holds committed state: a write takes the document out of the cache,
//! changes it, commits, and only then puts it back. A write that fails drops its copy, so the next
//! access reloads the committed bytes from SQLite.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use automerge::{ActorId, AutoCommit, ChangeHash};
use autosurgeon::Hydrate;
use onsite_domain::{doc, saved, templates::SCHEMA};
use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreError;

/// How many documents the cache keeps before evicting the least recently used. Enough for a
/// day's work (the Today orders, their visits, the reference documents); an order as Automerge
/// holds it in memory takes about 0.6 MB, so 512 of them kept a device at 370 MiB through a
/// first sync of 10,000 orders (`onsite-device-scale`, docs/benchmarks.md).
const CACHE_DOCS: usize = 128;

/// A document as loaded from the store.
pub(crate) struct Loaded {
    /// Boxed: an `AutoCommit` is 4 KB, and a received document moves a dozen times between
    /// the worker that applied it, the batch writing it and the cache (and the cache's eviction
    /// scan read every entry) — those copies were 5 % of a first sync's store thread.
    pub doc: Box<AutoCommit>,
    /// Heads of what is committed in SQLite; changes after these are not yet persisted.
    pub persisted: Vec<ChangeHash>,
    /// The document hydrated as some type, and the heads it was hydrated at; reused only while
    /// the document is still at those heads.
    typed: Option<(Vec<ChangeHash>, Arc<dyn Any + Send + Sync>)>,
    /// The document saved whole ([`saved::for_storage`]) and the heads it was saved at, made
    /// ahead of its first row ([`Loaded::save_whole`]); used only at the same heads.
    saved_whole: Option<(Vec<ChangeHash>, Vec<u8>)>,
    used: u64,
}

impl Loaded {
    pub fn new(doc: AutoCommit) -> Self {
        let mut doc = Box::new(doc);
        let persisted = doc.get_heads();
        Loaded {
            doc,
            persisted,
            typed: None,
            saved_whole: None,
            used: 0,
        }
    }

    /// An empty document of `actor`, for a write creating one.
    pub fn empty(actor: ActorId) -> Self {
        Loaded::new(AutoCommit::new().with_actor(actor))
    }

    /// Forget the hydrated value (the document is about to change).
    pub fn invalidate(&mut self) {
        self.typed = None;
    }

    /// This document as one the store does not hold yet: nothing of it persisted, its changes
    /// from now on made as `actor` (the actor does not change its heads, nor what it was
    /// hydrated as).
    pub fn unstored(mut self, actor: ActorId) -> Loaded {
        self.doc.set_actor(actor);
        self.persisted = Vec::new();
        self
    }

    /// Save the document whole now, for [`Loaded::take_saved_whole`] to use.
    pub fn save_whole(&mut self) {
        let bytes = saved::for_storage(&mut self.doc, u64::MAX);
        self.saved_whole = Some((self.doc.get_heads(), bytes));
    }

    /// The document saved whole as a new row stores it: what [`Loaded::save_whole`] made when
    /// the heads are still the same, else saved now.
    pub fn take_saved_whole(&mut self) -> Vec<u8> {
        match self.saved_whole.take() {
            Some((at, bytes)) if at == self.doc.get_heads() => bytes,
            _ => saved::for_storage(&mut self.doc, u64::MAX),
        }
    }

    /// Keep what `other` was hydrated as when that was at this document's heads (the same
    /// changes reached this copy by a merge).
    pub fn keep_typed(&mut self, other: Loaded) {
        if let Some((at, value)) = other.typed
            && at == self.doc.get_heads()
        {
            self.typed = Some((at, value));
        }
    }

    /// Remember `value` as what the document hydrates to. Only for values just reconciled into
    /// the document that hold no `autosurgeon::Text` (whose edit state is tied to the heads it
    /// was read at).
    pub fn set_typed<T: Send + Sync + 'static>(&mut self, value: Arc<T>) {
        self.typed = Some((self.doc.get_heads(), value));
    }

    /// The document hydrated as `T`, after checking its schema version.
    pub fn typed<T>(&mut self) -> Result<Arc<T>, StoreError>
    where
        T: Hydrate + Send + Sync + 'static,
    {
        let heads = self.doc.get_heads();
        if let Some((at, t)) = &self.typed
            && *at == heads
            && let Ok(v) = Arc::clone(t).downcast::<T>()
        {
            return Ok(v);
        }
        doc::check_schema(&self.doc, SCHEMA)?;
        let value: Arc<T> = Arc::new(doc::read(&self.doc)?);
        self.typed = Some((heads, value.clone()));
        Ok(value)
    }
}

/// Load the document stored under `key`, or `None` when there is no such row. Damaged bytes give
/// [`StoreError::Corrupt`] and leave the rows as they are.
pub(crate) fn load_row(
    conn: &Connection,
    actor: &ActorId,
    key: &str,
) -> Result<Option<Loaded>, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt {
        doc_id: key.to_owned(),
        detail,
    };
    let snapshot: Option<Vec<u8>> = conn
        .prepare_cached("SELECT snapshot FROM docs WHERE doc_id = ?1")?
        .query_row(params![key], |r| r.get(0))
        .optional()?;
    let Some(snapshot) = snapshot else {
        return Ok(None);
    };
    if snapshot.is_empty() {
        return Err(corrupt("the snapshot is empty".into()));
    }
    let mut doc = AutoCommit::load(&snapshot).map_err(|e| corrupt(format!("snapshot: {e}")))?;
    let mut stmt =
        conn.prepare_cached("SELECT seq, bytes FROM doc_changes WHERE doc_id = ?1 ORDER BY seq")?;
    let mut rows = stmt.query(params![key])?;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let bytes: Vec<u8> = row.get(1)?;
        doc.load_incremental(&bytes)
            .map_err(|e| corrupt(format!("change row {seq}: {e}")))?;
    }
    let missing = doc.get_missing_deps(&[]);
    if !missing.is_empty() {
        return Err(corrupt(format!(
            "{} change(s) refer to changes that are not stored",
            missing.len()
        )));
    }
    Ok(Some(Loaded::new(doc.with_actor(actor.clone()))))
}

/// Least-recently-used cache of loaded documents, keyed by the text form of the doc id.
#[derive(Default)]
pub(crate) struct DocCache {
    map: HashMap<String, Loaded>,
    tick: u64,
}

impl DocCache {
    /// The document under `key`, loading it into the cache if needed.
    pub fn get<'a>(
        &'a mut self,
        conn: &Connection,
        actor: &ActorId,
        key: &str,
    ) -> Result<Option<&'a mut Loaded>, StoreError> {
        self.tick += 1;
        if !self.map.contains_key(key) {
            match load_row(conn, actor, key)? {
                Some(loaded) => self.put(key.to_owned(), loaded),
                None => return Ok(None),
            }
        }
        let tick = self.tick;
        let entry = self.map.get_mut(key);
        if let Some(l) = entry {
            l.used = tick;
            return Ok(Some(l));
        }
        Ok(None)
    }

    /// Take the document out of the cache (loading it if needed) to change it.
    pub fn take(
        &mut self,
        conn: &Connection,
        actor: &ActorId,
        key: &str,
    ) -> Result<Option<Loaded>, StoreError> {
        match self.map.remove(key) {
            Some(l) => Ok(Some(l)),
            None => load_row(conn, actor, key),
        }
    }

    /// Put a committed document (back) into the cache.
    pub fn put(&mut self, key: String, mut loaded: Loaded) {
        self.tick += 1;
        loaded.used = self.tick;
        if self.map.len() >= CACHE_DOCS
            && !self.map.contains_key(&key)
            && let Some(oldest) = self
                .map
                .iter()
                .min_by_key(|(_, l)| l.used)
                .map(|(k, _)| k.clone())
        {
            self.map.remove(&oldest);
        }
        self.map.insert(key, loaded);
    }

    pub fn remove(&mut self, key: &str) {
        self.map.remove(key);
    }

    pub fn clear(&mut self) {
        self.map.clear();
    }
}
