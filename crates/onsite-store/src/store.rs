//! [`Store`]: opening the database, typed document reads and writes, the technician's visit
//! edits, and what the sync client needs (pending changes, merges, sync state, cursors).

use std::cell::{Cell, RefCell};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use automerge::{ActorId, AutoCommit, ChangeHash};
use autosurgeon::{Hydrate, Reconcile};
use onsite_domain::edit::{self, EditContext, VisitEdit};
use onsite_domain::order::{DispatchStatus, Order};
use onsite_domain::reference::{FeeSchedule, PartsCatalogue, TechnicianProfile, TemplateLibrary};
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, DomainError, Millis, doc, saved};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::StoreError;
use crate::cache::{DocCache, Loaded, load_row};
use crate::index;
use crate::schema;

/// A document's change log is folded into a new snapshot when it reaches this many rows.
pub const COMPACT_AT: i64 = 64;

/// The durability `Store::open` sets: [`Durability::Normal`]. Every acknowledged edit is
/// committed to the WAL before the call returns, so it survives the app being killed or crashing
/// (the durability test kills a writer with SIGKILL hundreds of times); only an OS crash or power
/// loss can roll back the last commits, never corrupt the file. `Full` adds an fsync per commit,
/// which on the measured disk alone exceeds the 5 ms commit budget (see `docs/benchmarks.md`,
/// "Device store"); call [`Store::set_durability`] to choose it anyway.
pub const DEFAULT_DURABILITY: Durability = Durability::Normal;

/// WAL size (pages) at which a commit also checkpoints. Larger than SQLite's default so that the
/// checkpoint's fsync lands on fewer commits; call [`Store::checkpoint`] when idle (e.g. after a
/// sync round) to keep the WAL short.
const WAL_AUTOCHECKPOINT_PAGES: i64 = 4_000;

/// File name used by [`Store::open_in`].
pub const DB_FILE: &str = "onsite.db";

/// How hard a commit waits for the disk (SQLite `synchronous` in WAL mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// The WAL is fsynced on every commit: an acknowledged edit survives power loss.
    Full,
    /// The WAL is fsynced at checkpoints only: an acknowledged edit survives a crash or kill of
    /// the app, but the last commits before a power loss or OS crash may be rolled back.
    Normal,
}

impl Durability {
    fn pragma_value(self) -> &'static str {
        match self {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        }
    }
}

/// Storage facts about one document, for the sync client and for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocInfo {
    pub doc_id: DocId,
    /// Current heads of the document.
    pub heads: Vec<ChangeHash>,
    /// Changes in the document's history (all actors).
    pub history_len: usize,
    /// Incremental change rows waiting to be compacted into the snapshot.
    pub change_rows: i64,
    /// Changes made on this device and not yet confirmed synced (see [`Store::mark_synced`]).
    pub local_changes: i64,
    /// Bytes of snapshot plus change rows.
    pub stored_bytes: i64,
}

/// The durable device store: one SQLite file (WAL) holding Automerge documents as snapshot plus
/// incremental changes, the index tables the screens query, and content-addressed attachments.
///
/// Every write is committed in one SQLite transaction (document bytes, counters and index rows
/// together) before the call returns; a failed write changes nothing. `Store` is `Send` but not
/// `Sync`: share it behind a `Mutex`.
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) actor: ActorId,
    device_id: String,
    pub(crate) cache: RefCell<DocCache>,
    path: PathBuf,
}

enum Presence {
    MustBeNew,
    MustExist,
    Any,
}

fn meta_get(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
            r.get(0)
        })
        .optional()?)
}

fn meta_set(conn: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// Set (`Some`) or remove (`None`) `key` of the key-value table.
fn kv_put(conn: &Connection, key: &str, value: Option<&[u8]>) -> Result<(), StoreError> {
    match value {
        Some(value) => conn
            .prepare_cached(
                "INSERT INTO kv (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![key, value])?,
        None => conn
            .prepare_cached("DELETE FROM kv WHERE key = ?1")?
            .execute(params![key])?,
    };
    Ok(())
}

/// Write `value` into `doc`. autosurgeon panics (instead of returning an error) when a value
/// holding `Text` hydrated from another document, or at other heads, is written; that becomes a
/// typed error here. The caller drops `doc` on error, so a half-written document is never kept.
fn reconcile_into<T: Reconcile>(doc: &mut AutoCommit, value: &T) -> Result<(), StoreError> {
    match std::panic::catch_unwind(AssertUnwindSafe(|| doc::write(doc, value))) {
        Ok(result) => Ok(result?),
        Err(_) => Err(DomainError::Reconcile(
            "the value holds text read from another document or an older state of this one; \
             read the document again (or build the text with Text::from) and retry"
                .into(),
        )
        .into()),
    }
}

pub(crate) fn heads_text(heads: &[ChangeHash]) -> String {
    heads
        .iter()
        .map(|h| h.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// The document under `key` if `presence` allows what was found; a document that must be new
/// goes back into the cache untouched.
fn checked_presence(
    cache: &mut DocCache,
    key: &str,
    presence: &Presence,
    existing: Option<Loaded>,
) -> Result<Option<Loaded>, StoreError> {
    match (presence, existing) {
        (Presence::MustBeNew, Some(l)) => {
            cache.put(key.to_owned(), l);
            Err(StoreError::AlreadyExists(key.to_owned()))
        }
        (Presence::MustExist, None) => Err(StoreError::NotFound(key.to_owned())),
        (_, existing) => Ok(existing),
    }
}

/// Inside `tx`: store the changes `loaded` has beyond what is persisted (a new row, one more
/// change row, or a compacted snapshot), count the local ones, and refresh the index rows.
fn persist(
    tx: &Connection,
    cache: &mut DocCache,
    actor: &ActorId,
    id: &DocId,
    loaded: &mut Loaded,
    is_new: bool,
) -> Result<(), StoreError> {
    let key = id.to_string();
    let local = loaded
        .doc
        .get_changes_meta(&loaded.persisted)
        .iter()
        .filter(|c| c.actor.as_ref() == actor)
        .count() as i64;
    if is_new {
        let snapshot = loaded.take_saved_whole();
        tx.prepare_cached(
            "INSERT INTO docs (doc_id, snapshot, local_changes) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![key, snapshot, local])?;
    } else {
        let (rows, next_seq): (i64, i64) = tx
            .prepare_cached("SELECT change_rows, next_seq FROM docs WHERE doc_id = ?1")?
            .query_row(params![key], |r| Ok((r.get(0)?, r.get(1)?)))?;
        if rows + 1 >= COMPACT_AT {
            let snapshot = saved::for_storage(&mut loaded.doc, u64::MAX);
            tx.prepare_cached(
                "UPDATE docs SET snapshot = ?2, change_rows = 0,
                     local_changes = local_changes + ?3 WHERE doc_id = ?1",
            )?
            .execute(params![key, snapshot, local])?;
            tx.prepare_cached("DELETE FROM doc_changes WHERE doc_id = ?1")?
                .execute(params![key])?;
        } else {
            let bytes = loaded.doc.save_after(&loaded.persisted);
            tx.prepare_cached("INSERT INTO doc_changes (doc_id, seq, bytes) VALUES (?1, ?2, ?3)")?
                .execute(params![key, next_seq, bytes])?;
            tx.prepare_cached(
                "UPDATE docs SET change_rows = change_rows + 1,
                     next_seq = next_seq + 1, local_changes = local_changes + ?2
                 WHERE doc_id = ?1",
            )?
            .execute(params![key, local])?;
        }
    }
    let rows = match is_new {
        true => index::Rows::New,
        false => index::Rows::Replace,
    };
    index::refresh(tx, cache, actor, id, loaded, rows)
}

/// More writes in a document write's transaction ([`Batch::receive`]), told whether the store
/// held the document before.
type AlsoInTx<'a> = &'a dyn Fn(&Connection, &mut Loaded, bool) -> Result<(), StoreError>;

/// What a received document leaves behind ([`Batch::receive`]).
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    /// The peer state to keep for the next round.
    pub sync_state: &'a [u8],
    /// The heads both sides share after this message.
    pub shared_heads: &'a [ChangeHash],
    /// The relay refused this document in the same answer: its refusal stays.
    pub refused: bool,
}

/// A document received from the relay on its way into the store ([`Batch::receive`]). Made with
/// [`Incoming::hydrated`] it carries what its index rows are read from: hydrating is the costly
/// part of taking a document in and needs no store, so a sync does it on other threads while the
/// store writes the documents before it.
pub struct Incoming(Loaded);

impl Incoming {
    /// `doc` hydrated as its kind's type. A document that does not hydrate comes as it is: taking
    /// it in hydrates it again and gives the error there, as without this step.
    pub fn hydrated(id: &DocId, doc: AutoCommit) -> Incoming {
        let mut l = Loaded::new(doc);
        let _unreadable_until_taken_in = index::hydrate(id, &mut l);
        Incoming(l)
    }

    /// A document the store does not hold, [`hydrated`](Self::hydrated) and saved whole as the
    /// store keeps a new document: saving needs no store either.
    pub fn hydrated_new(id: &DocId, doc: AutoCommit) -> Incoming {
        let Incoming(mut l) = Incoming::hydrated(id, doc);
        l.save_whole();
        Incoming(l)
    }
}

impl From<AutoCommit> for Incoming {
    fn from(doc: AutoCommit) -> Incoming {
        Incoming(Loaded::new(doc))
    }
}

/// What syncing a received document leaves behind, written in its transaction: its sync state,
/// the heads both sides now share (the local-change count as [`Store::mark_synced`] computes it)
/// and, unless the relay refused it in the same answer, its refusal cleared (a document the store
/// did not hold has none: removing a document removes its refusal, [`remove_in`]).
fn record_received(
    tx: &Connection,
    key: &str,
    actor: &ActorId,
    l: &mut Loaded,
    received: Received<'_>,
    was_held: bool,
) -> Result<(), StoreError> {
    put_sync_state(tx, key, received.sync_state)?;
    if !received.refused && was_held {
        crate::rejections::delete_refusal(tx, key)?;
    }
    record_synced(tx, key, &mut l.doc, actor, received.shared_heads).map(drop)
}

/// Store `state` as the sync state of the document `key`.
fn put_sync_state(conn: &Connection, key: &str, state: &[u8]) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO sync_states (doc_id, state) VALUES (?1, ?2)
         ON CONFLICT(doc_id) DO UPDATE SET state = excluded.state",
    )?
    .execute(params![key, state])?;
    Ok(())
}

/// Record that `heads` of the document `key` (held as `doc`) are synced: its local-change count
/// and synced heads ([`unsynced`]). The local changes left.
fn record_synced(
    conn: &Connection,
    key: &str,
    doc: &mut AutoCommit,
    actor: &ActorId,
    heads: &[ChangeHash],
) -> Result<i64, StoreError> {
    let (remaining, known) = unsynced(doc, actor, heads);
    conn.prepare_cached("UPDATE docs SET local_changes = ?2, synced_heads = ?3 WHERE doc_id = ?1")?
        .execute(params![key, remaining, heads_text(&known)])?;
    Ok(remaining)
}

/// Merge `incoming` (received whole or in part) into `l` like [`Store::save_doc`]; `None`: `l`
/// is the received document itself, the store not holding it ([`Batch::receive`] — a first sync
/// receives thousands of documents, and merging each into an empty one would replay its whole
/// history a second time). What it was hydrated as comes along when it still holds. Whether `l`
/// changed.
fn adopt(l: &mut Loaded, id: &DocId, incoming: Option<Incoming>) -> Result<bool, StoreError> {
    let Some(Incoming(mut got)) = incoming else {
        return Ok(!l.doc.get_heads().is_empty());
    };
    let before = l.doc.get_heads();
    l.doc
        .merge(&mut got.doc)
        .map_err(|e| StoreError::BadRemoteData {
            doc_id: id.to_string(),
            detail: e.to_string(),
        })?;
    l.keep_typed(got);
    Ok(l.doc.get_heads() != before)
}

/// This device's changes in `doc` not covered by `heads` (those of `heads` the document knows),
/// and those known heads.
fn unsynced(doc: &mut AutoCommit, actor: &ActorId, heads: &[ChangeHash]) -> (i64, Vec<ChangeHash>) {
    let known: Vec<ChangeHash> = heads
        .iter()
        .filter(|h| doc.get_change_meta_by_hash(h).is_some())
        .copied()
        .collect();
    let remaining = doc
        .get_changes_meta(&known)
        .iter()
        .filter(|c| c.actor.as_ref() == actor)
        .count() as i64;
    (remaining, known)
}

/// Documents written in one transaction ([`Store::batch`]).
pub struct Batch<'a> {
    tx: &'a Connection,
    cache: &'a mut DocCache,
    actor: &'a ActorId,
    /// Documents written so far, persisted inside the transaction; cached after the commit.
    written: Vec<(String, Loaded)>,
}

impl Batch<'_> {
    /// Create document `id` holding `value` (refused when it exists).
    pub fn create<T: Reconcile>(&mut self, id: &DocId, value: &T) -> Result<(), StoreError> {
        let empty = self.empty();
        self.write_then(
            id,
            Presence::MustBeNew,
            empty,
            |l| reconcile_into(&mut l.doc, value),
            None,
        )
    }

    /// Hydrate `id` as `T`, let `f` change it and write the difference.
    pub fn update<T, F>(&mut self, id: &DocId, f: F) -> Result<T, StoreError>
    where
        T: Hydrate + Reconcile + Clone + Send + Sync + 'static,
        F: FnOnce(&mut T) -> Result<(), DomainError>,
    {
        let change = |l: &mut Loaded| {
            let mut value = l.typed::<T>()?.as_ref().clone();
            f(&mut value)?;
            l.invalidate();
            reconcile_into(&mut l.doc, &value)?;
            Ok(value)
        };
        let empty = self.empty();
        self.write_then(id, Presence::MustExist, empty, change, None)
    }

    /// A document the relay sent, taken whole when new and else merged ([`adopt`]), with what
    /// syncing it leaves behind ([`Received`]) in the batch's transaction: a sync answer's documents are
    /// taken a few at a time in one commit each, instead of one commit a document. Whether the
    /// document changed.
    pub fn receive(
        &mut self,
        id: &DocId,
        doc: impl Into<Incoming>,
        received: Received<'_>,
    ) -> Result<bool, StoreError> {
        // Taken by whichever needs it: the store's copy is started from it when the store does
        // not hold the document, else it is merged into the one held.
        let incoming = Cell::new(Some(doc.into()));
        let (key, actor) = (id.to_string(), self.actor.clone());
        let unstored = || match incoming.take() {
            Some(Incoming(l)) => l.unstored(actor.clone()),
            None => Loaded::empty(actor.clone()),
        };
        let then = |tx: &Connection, l: &mut Loaded, was_held: bool| {
            record_received(tx, &key, &actor, l, received, was_held)
        };
        self.write_then(
            id,
            Presence::Any,
            unstored,
            |l| adopt(l, id, incoming.take()),
            Some(&then),
        )
    }

    /// An empty document of this device's actor, for a write creating one.
    fn empty(&self) -> impl FnOnce() -> Loaded + use<> {
        let actor = self.actor.clone();
        move || Loaded::empty(actor)
    }

    /// Write `id` as `f` changes it inside the batch's transaction, then `then` (also when
    /// nothing changed). `unstored` makes the document to start from when the store does not
    /// hold it.
    fn write_then<R>(
        &mut self,
        id: &DocId,
        presence: Presence,
        unstored: impl FnOnce() -> Loaded,
        f: impl FnOnce(&mut Loaded) -> Result<R, StoreError>,
        then: Option<AlsoInTx<'_>>,
    ) -> Result<R, StoreError> {
        let key = id.to_string();
        let existing = match self.written.iter().position(|(k, _)| *k == key) {
            Some(i) => Some(self.written.swap_remove(i).1),
            None => self.cache.take(self.tx, self.actor, &key)?,
        };
        let is_new = existing.is_none();
        let mut loaded =
            checked_presence(self.cache, &key, &presence, existing)?.unwrap_or_else(unstored);
        let result = f(&mut loaded)?;
        if !loaded.doc.get_changes_meta(&loaded.persisted).is_empty() {
            persist(self.tx, self.cache, self.actor, id, &mut loaded, is_new)?;
        }
        if let Some(then) = then {
            then(self.tx, &mut loaded, !is_new)?;
        }
        loaded.persisted = loaded.doc.get_heads();
        self.written.push((key, loaded));
        Ok(result)
    }
}

impl Store {
    /// Open (creating if needed) the store at `path`, migrating it to the latest schema.
    ///
    /// `device_id` is recorded on first open (a random one is generated when `None`); opening an
    /// existing store with a different id fails with [`StoreError::DeviceMismatch`]. The store's
    /// Automerge actor id is generated once and reused for every document.
    pub fn open(path: impl AsRef<Path>, device_id: Option<&str>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)?;
        }
        if let Some(d) = device_id
            && !onsite_domain::ids::is_valid_id(d)
        {
            return Err(DomainError::BadDocId(d.to_owned()).into());
        }
        let mut conn = Connection::open(&path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Integrity(format!(
                "the database refused WAL mode (got '{mode}'); put it on a local disk"
            )));
        }
        conn.pragma_update(None, "synchronous", DEFAULT_DURABILITY.pragma_value())?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > schema::latest_version() {
            return Err(StoreError::SchemaTooNew {
                found,
                supported: schema::latest_version(),
            });
        }
        schema::migrations().to_latest(&mut conn)?;

        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let device = match (meta_get(&tx, "device_id")?, device_id) {
            (Some(stored), Some(given)) if stored != given => {
                return Err(StoreError::DeviceMismatch {
                    stored,
                    given: given.to_owned(),
                });
            }
            (Some(stored), _) => stored,
            (None, given) => {
                let d = given
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("dev-{}", uuid::Uuid::new_v4().simple()));
                meta_set(&tx, "device_id", &d)?;
                d
            }
        };
        let actor = match meta_get(&tx, "actor_id")? {
            Some(hex) => ActorId::try_from(hex.as_str()).map_err(|e| {
                StoreError::Integrity(format!("stored actor id '{hex}' is invalid: {e}"))
            })?,
            None => {
                let a = ActorId::from(uuid::Uuid::new_v4().as_bytes());
                meta_set(&tx, "actor_id", &a.to_hex_string())?;
                a
            }
        };
        tx.commit()?;

        let mut store = Store {
            conn,
            actor,
            device_id: device,
            cache: RefCell::new(DocCache::default()),
            path,
        };
        let index_version = meta_get(&store.conn, "index_version")?;
        if index_version.as_deref() != Some(&schema::INDEX_VERSION.to_string()) {
            store.rebuild_indexes()?;
        }
        Ok(store)
    }

    /// Open (creating if needed) the store file [`DB_FILE`] inside `dir`.
    pub fn open_in(dir: impl AsRef<Path>) -> Result<Store, StoreError> {
        Store::open(dir.as_ref().join(DB_FILE), None)
    }

    /// This device's id (recorded in progress events).
    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// The Automerge actor id every local change is made with.
    pub fn actor_id(&self) -> &ActorId {
        &self.actor
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Change how hard commits wait for the disk (see [`Durability`]; `open` uses
    /// [`DEFAULT_DURABILITY`]).
    pub fn set_durability(&mut self, durability: Durability) -> Result<(), StoreError> {
        self.conn
            .pragma_update(None, "synchronous", durability.pragma_value())?;
        Ok(())
    }

    // ---------------------------------------------------------------- typed documents

    /// Create document `id` holding `value`. Fails with [`StoreError::AlreadyExists`] if present.
    pub fn create<T: Reconcile>(&mut self, id: &DocId, value: &T) -> Result<(), StoreError> {
        self.write(id, Presence::MustBeNew, |l| {
            reconcile_into(&mut l.doc, value)
        })
    }

    /// Read document `id` as `T`.
    pub fn read<T>(&self, id: &DocId) -> Result<T, StoreError>
    where
        T: Hydrate + Clone + Send + Sync + 'static,
    {
        Ok(self.typed::<T>(id)?.as_ref().clone())
    }

    /// Whether document `id` is on this device.
    pub fn contains(&self, id: &DocId) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM docs WHERE doc_id = ?1")?
            .exists(params![id.to_string()])?)
    }

    /// Hydrate `id` as `T`, let `f` change it, and write the difference — document bytes and
    /// index rows in one transaction. If `f` (or anything after it) fails, nothing is written.
    pub fn update<T, F>(&mut self, id: &DocId, f: F) -> Result<T, StoreError>
    where
        T: Hydrate + Reconcile + Clone + Send + Sync + 'static,
        F: FnOnce(&mut T) -> Result<(), DomainError>,
    {
        self.write(id, Presence::MustExist, |l| {
            let mut value = l.typed::<T>()?.as_ref().clone();
            f(&mut value)?;
            l.invalidate();
            reconcile_into(&mut l.doc, &value)?;
            Ok(value)
        })
    }

    pub(crate) fn typed<T>(&self, id: &DocId) -> Result<Arc<T>, StoreError>
    where
        T: Hydrate + Send + Sync + 'static,
    {
        let key = id.to_string();
        let mut cache = self.cache.borrow_mut();
        match cache.get(&self.conn, &self.actor, &key)? {
            Some(l) => l.typed::<T>(),
            None => Err(StoreError::NotFound(key)),
        }
    }

    /// The one write path: take the document out of the cache, let `f` change it, append the new
    /// changes (or compact), refresh the index rows, commit, and only then cache it again.
    fn write<R>(
        &mut self,
        id: &DocId,
        presence: Presence,
        f: impl FnOnce(&mut Loaded) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let key = id.to_string();
        let cache = self.cache.get_mut();
        let existing = cache.take(&self.conn, &self.actor, &key)?;
        let is_new = existing.is_none();
        let mut loaded = checked_presence(cache, &key, &presence, existing)?
            .unwrap_or_else(|| Loaded::empty(self.actor.clone()));
        let result = match f(&mut loaded) {
            Ok(r) => r,
            Err(e) => {
                // Keep the cached copy only if `f` left the document as committed.
                if !is_new && loaded.doc.get_heads() == loaded.persisted {
                    cache.put(key, loaded);
                }
                return Err(e);
            }
        };
        // From here on, an error drops `loaded`: the cache no longer has the document and the
        // next access reloads what is committed.
        if loaded.doc.get_changes_meta(&loaded.persisted).is_empty() {
            if !is_new {
                cache.put(key, loaded);
            }
            return Ok(result);
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        persist(&tx, cache, &self.actor, id, &mut loaded, is_new)?;
        tx.commit()?;
        loaded.persisted = loaded.doc.get_heads();
        cache.put(key, loaded);
        Ok(result)
    }

    /// Write several documents in **one** transaction: all of them or none (e.g. an import's
    /// households and orders). `f` creates and updates documents through the [`Batch`]; when it
    /// or any write fails, nothing is written.
    pub fn batch<R>(
        &mut self,
        f: impl FnOnce(&mut Batch<'_>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let cache = self.cache.get_mut();
        let outcome = {
            let mut batch = Batch {
                tx: &tx,
                cache: &mut *cache,
                actor: &self.actor,
                written: Vec::new(),
            };
            f(&mut batch).map(|r| (r, std::mem::take(&mut batch.written)))
        };
        match outcome.and_then(|(r, written)| Ok((r, written, tx.commit()?))) {
            Ok((r, written, ())) => {
                for (key, loaded) in written {
                    cache.put(key, loaded);
                }
                Ok(r)
            }
            Err(e) => {
                // Index refreshes may have cached documents read inside the rolled-back transaction.
                cache.clear();
                Err(e)
            }
        }
    }

    // ---------------------------------------------------------------- visits

    /// Start `technician_id`'s visit for `order_id` with the newest approved templates (the
    /// service type's and `haier-12345`). Returns the existing visit if it was already started.
    pub fn start_visit(
        &mut self,
        order_id: &str,
        technician_id: &str,
    ) -> Result<Visit, StoreError> {
        let vid = DocId::visit(order_id, technician_id);
        if self.contains(&vid)? {
            return self.read(&vid);
        }
        let order = self.typed::<Order>(&DocId::Order(order_id.to_owned()))?;
        match order.status {
            DispatchStatus::Cancelled => return Err(DomainError::OrderCancelled.into()),
            DispatchStatus::OnHold => return Err(DomainError::OrderOnHold.into()),
            DispatchStatus::Open => {}
        }
        if order.assignee.as_deref() != Some(technician_id) {
            return Err(DomainError::NotAssignee(technician_id.to_owned()).into());
        }
        let library = self.typed::<TemplateLibrary>(&DocId::Templates)?;
        let visit = Visit::start(&order, technician_id, &library)?;
        self.create(&vid, &visit)?;
        Ok(visit)
    }

    /// Apply one technician edit to the visit: load the order, reference documents and the
    /// technician's profile from the store, check the edit with [`onsite_domain::edit::apply`]
    /// at device time `now`, and commit it with the index rows. Returns the visit as saved.
    pub fn apply_visit_edit(
        &mut self,
        order_id: &str,
        technician_id: &str,
        edit: VisitEdit,
        now: Millis,
    ) -> Result<Visit, StoreError> {
        let order = self.typed::<Order>(&DocId::Order(order_id.to_owned()))?;
        let library = self.typed::<TemplateLibrary>(&DocId::Templates)?;
        let fees = self.typed::<FeeSchedule>(&DocId::FeeSchedule)?;
        let parts = self.typed::<PartsCatalogue>(&DocId::PartsCatalogue)?;
        let profile = self.typed::<TechnicianProfile>(&DocId::Profile(technician_id.to_owned()))?;
        let device_id = self.device_id.clone();
        let vid = DocId::visit(order_id, technician_id);
        self.write(&vid, Presence::MustExist, |l| {
            let mut visit = l.typed::<Visit>()?.as_ref().clone();
            let ctx = EditContext {
                order: &order,
                library: &library,
                fees: &fees,
                parts: &parts,
                profile: &profile,
                device_id: &device_id,
                now,
            };
            edit::apply(&mut visit, edit, &ctx)?;
            l.invalidate();
            reconcile_into(&mut l.doc, &visit)?;
            // A visit holds no `Text`, so the value just written is exactly what the document
            // now hydrates to; the index refresh and the next edit reuse it.
            l.set_typed(Arc::new(visit.clone()));
            Ok(visit)
        })
    }

    // ---------------------------------------------------------------- sync support

    /// A copy of document `id` (with this store's actor), e.g. to run the Automerge sync
    /// protocol on. Persist what sync changed with [`Store::save_doc`].
    pub fn load_doc(&self, id: &DocId) -> Result<AutoCommit, StoreError> {
        let key = id.to_string();
        let mut cache = self.cache.borrow_mut();
        match cache.get(&self.conn, &self.actor, &key)? {
            Some(l) => Ok(AutoCommit::clone(&l.doc)),
            None => Err(StoreError::NotFound(key)),
        }
    }

    /// Merge `bytes` (Automerge changes, an incremental save or a whole saved document) into
    /// document `id`, creating it if it is not on this device, and refresh its index rows.
    /// Returns whether anything new was merged. Invalid bytes change nothing.
    pub fn merge_remote(&mut self, id: &DocId, bytes: &[u8]) -> Result<bool, StoreError> {
        let key = id.to_string();
        self.write(id, Presence::Any, |l| {
            let before = l.doc.get_heads();
            l.doc
                .load_incremental(bytes)
                .map_err(|e| StoreError::BadRemoteData {
                    doc_id: key.clone(),
                    detail: e.to_string(),
                })?;
            Ok(l.doc.get_heads() != before)
        })
    }

    /// Merge `other` (e.g. the copy from [`Store::load_doc`] after a sync round) into the stored
    /// document `id`, creating it if missing. Local edits made meanwhile are kept: this merges, it
    /// never replaces. Returns whether anything new was merged.
    pub fn save_doc(&mut self, id: &DocId, other: &mut AutoCommit) -> Result<bool, StoreError> {
        let key = id.to_string();
        self.write(id, Presence::Any, |l| {
            let before = l.doc.get_heads();
            l.doc.merge(other).map_err(|e| StoreError::BadRemoteData {
                doc_id: key.clone(),
                detail: e.to_string(),
            })?;
            Ok(l.doc.get_heads() != before)
        })
    }

    /// Storage facts about document `id`.
    pub fn doc_info(&self, id: &DocId) -> Result<DocInfo, StoreError> {
        let key = id.to_string();
        let (change_rows, local_changes, stored_bytes): (i64, i64, i64) = self
            .conn
            .query_row(
                "SELECT change_rows, local_changes,
                        length(snapshot) + (SELECT COALESCE(SUM(length(bytes)), 0)
                                            FROM doc_changes c WHERE c.doc_id = d.doc_id)
                 FROM docs d WHERE doc_id = ?1",
                params![key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(key.clone()))?;
        let mut cache = self.cache.borrow_mut();
        let l = cache
            .get(&self.conn, &self.actor, &key)?
            .ok_or_else(|| StoreError::NotFound(key.clone()))?;
        Ok(DocInfo {
            doc_id: id.clone(),
            heads: l.doc.get_heads(),
            history_len: l.doc.get_changes_meta(&[]).len(),
            change_rows,
            local_changes,
            stored_bytes,
        })
    }

    /// Every document on this device, in id order.
    pub fn list_doc_ids(&self) -> Result<Vec<DocId>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT doc_id FROM docs ORDER BY doc_id")?;
        let keys: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        keys.into_iter()
            .map(|k| {
                k.parse().map_err(|_| StoreError::Corrupt {
                    doc_id: k.clone(),
                    detail: "the row's document id is malformed".into(),
                })
            })
            .collect()
    }

    /// Documents with local changes not yet confirmed synced, in id order.
    pub fn pending_docs(&self) -> Result<Vec<DocId>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT doc_id FROM docs WHERE local_changes > 0 ORDER BY doc_id")?;
        let keys: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        keys.into_iter()
            .map(|k| {
                k.parse().map_err(|_| StoreError::Corrupt {
                    doc_id: k.clone(),
                    detail: "the row's document id is malformed".into(),
                })
            })
            .collect()
    }

    /// Total local changes (over all documents) not yet confirmed synced.
    pub fn pending_count(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(SUM(local_changes), 0) FROM docs WHERE local_changes > 0",
            [],
            |r| r.get(0),
        )?)
    }

    /// Record that the peer holds everything up to `heads` (pass the heads both sides share,
    /// e.g. `sync::State::shared_heads` after a sync round). The document's local-change count
    /// becomes the number of this device's changes not covered by `heads`; returns it.
    pub fn mark_synced(&mut self, id: &DocId, heads: &[ChangeHash]) -> Result<i64, StoreError> {
        let key = id.to_string();
        let cache = self.cache.get_mut();
        let l = cache
            .get(&self.conn, &self.actor, &key)?
            .ok_or_else(|| StoreError::NotFound(key.clone()))?;
        record_synced(&self.conn, &key, &mut l.doc, &self.actor, heads)
    }

    /// The opaque sync-state blob stored for document `id`, if any.
    pub fn sync_state(&self, id: &DocId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT state FROM sync_states WHERE doc_id = ?1")?
            .query_row(params![id.to_string()], |r| r.get(0))
            .optional()?)
    }

    /// Store the opaque sync-state blob for document `id` (the document need not exist yet).
    pub fn set_sync_state(&mut self, id: &DocId, state: &[u8]) -> Result<(), StoreError> {
        put_sync_state(&self.conn, &id.to_string(), state)
    }

    /// A value from the key-value table (sync cursor, auth token, …).
    pub fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM kv WHERE key = ?1")?
            .query_row(params![key], |r| r.get(0))
            .optional()?)
    }

    /// Set a value in the key-value table, durably.
    pub fn kv_set(&mut self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        kv_put(&self.conn, key, Some(value))
    }

    /// Set (`Some`) or remove (`None`) several keys of the key-value table in one transaction:
    /// all of them or none (a sync round's cursor and the positions stored with it).
    pub fn kv_write(&mut self, entries: &[(&str, Option<&[u8]>)]) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (key, value) in entries {
            kv_put(&tx, key, *value)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Remove a key from the key-value table.
    pub fn kv_delete(&mut self, key: &str) -> Result<(), StoreError> {
        kv_put(&self.conn, key, None)
    }

    /// Remove document `id` (and its index rows and sync state) from this device. Refused with
    /// [`StoreError::UnsyncedChanges`] while it has local changes not confirmed synced.
    pub fn remove_doc(&mut self, id: &DocId) -> Result<(), StoreError> {
        self.remove_docs(std::slice::from_ref(id))
    }

    /// [`Store::remove_doc`] for every document of `ids` in one transaction: all of them or,
    /// when one is missing or has unsynced changes, none.
    pub fn remove_docs(&mut self, ids: &[DocId]) -> Result<(), StoreError> {
        let cache = self.cache.get_mut();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let result = ids
            .iter()
            .try_for_each(|id| remove_in(&tx, cache, &self.actor, id))
            .and_then(|()| Ok(tx.commit()?));
        if result.is_err() {
            // The index refresh may have cached documents read inside the failed transaction.
            cache.clear();
        }
        result
    }

    // ---------------------------------------------------------------- maintenance

    /// Recreate every index table from the documents, in one transaction. Documents that cannot
    /// be read (damaged, or from a newer app) are left out of the index tables, so that one bad
    /// document does not stop the store from opening; reading them still returns the error.
    /// Returns how many documents were left out.
    pub fn rebuild_indexes(&mut self) -> Result<usize, StoreError> {
        let ids = self.list_doc_ids()?;
        let cache = self.cache.get_mut();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for table in [
            "idx_orders",
            "idx_visits",
            "idx_events",
            "idx_visit_parts",
            "idx_ledger",
            // registry:
            "idx_households",
            "idx_household_phones",
            "idx_order_refs",
        ] {
            tx.execute(&format!("DELETE FROM {table}"), [])?;
        }
        let mut groups: Vec<&str> = ids
            .iter()
            .filter_map(|id| match id {
                DocId::Order(o) | DocId::Visit { order_id: o, .. } => Some(o.as_str()),
                _ => None,
            })
            .collect();
        groups.dedup();
        // Unreadable documents of a group are left out of its rows and counted.
        let unreadable = index::unreadable;
        let mut skipped = 0;
        for order_id in groups {
            skipped += index::refresh_group(
                &tx,
                cache,
                &self.actor,
                order_id,
                None,
                index::Rows::Replace,
            )?;
        }
        for id in &ids {
            if let DocId::Ledger(t) = id {
                let ledger = cache.get(&tx, &self.actor, &id.to_string()).and_then(|l| {
                    l.ok_or_else(|| StoreError::NotFound(id.to_string()))?
                        .typed::<onsite_domain::ledger::StockLedger>()
                });
                match ledger {
                    Ok(ledger) => index::refresh_ledger(&tx, t, Some(&ledger))?,
                    Err(e) if unreadable(&e) => skipped += 1,
                    Err(e) => return Err(e),
                }
            }
            // registry:
            if let DocId::Household(h) = id {
                let household = cache.get(&tx, &self.actor, &id.to_string()).and_then(|l| {
                    l.ok_or_else(|| StoreError::NotFound(id.to_string()))?
                        .typed::<onsite_domain::household::Household>()
                });
                match household {
                    Ok(household) => crate::registry::refresh_household(
                        &tx,
                        h,
                        Some(&household),
                        index::Rows::Replace,
                    )?,
                    Err(e) if unreadable(&e) => skipped += 1,
                    Err(e) => return Err(e),
                }
            }
        }
        meta_set(&tx, "index_version", &schema::INDEX_VERSION.to_string())?;
        tx.commit()?;
        Ok(skipped)
    }

    /// Copy the WAL into the database file and truncate it. Cheap to call when idle; commits
    /// do it on their own only when the WAL grows past a few megabytes.
    pub fn checkpoint(&mut self) -> Result<(), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// SQLite's integrity and foreign-key checks, plus a load of every document. Slow on large
    /// stores; meant for diagnostics and tests.
    pub fn integrity_check(&self) -> Result<(), StoreError> {
        let result: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if result != "ok" {
            return Err(StoreError::Integrity(result));
        }
        let fk_violations: i64 =
            self.conn
                .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
                    r.get(0)
                })?;
        if fk_violations > 0 {
            return Err(StoreError::Integrity(format!(
                "{fk_violations} foreign-key violation(s)"
            )));
        }
        for id in self.list_doc_ids()? {
            load_row(&self.conn, &self.actor, &id.to_string())?;
        }
        Ok(())
    }
}

/// Remove document `id` inside `tx` (see [`Store::remove_doc`]).
fn remove_in(
    tx: &Connection,
    cache: &mut DocCache,
    actor: &ActorId,
    id: &DocId,
) -> Result<(), StoreError> {
    let key = id.to_string();
    let local: Option<i64> = tx
        .query_row(
            "SELECT local_changes FROM docs WHERE doc_id = ?1",
            params![key],
            |r| r.get(0),
        )
        .optional()?;
    let Some(local) = local else {
        return Err(StoreError::NotFound(key));
    };
    if local > 0 {
        return Err(StoreError::UnsyncedChanges {
            doc_id: key,
            local_changes: local,
        });
    }
    cache.remove(&key);
    tx.execute("DELETE FROM doc_changes WHERE doc_id = ?1", params![key])?;
    tx.execute("DELETE FROM docs WHERE doc_id = ?1", params![key])?;
    tx.execute("DELETE FROM sync_states WHERE doc_id = ?1", params![key])?;
    tx.execute("DELETE FROM refusals WHERE doc_id = ?1", params![key])?;
    index::forget(tx, cache, actor, id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_store_can_move_between_threads() {
        fn assert_send<T: Send>() {}
        assert_send::<super::Store>();
    }
}
