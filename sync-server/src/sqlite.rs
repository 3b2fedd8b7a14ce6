//! The embedded SQLite [`RelayStorage`]: one file, WAL, `synchronous=FULL` so an acknowledged
//! change survives a crash or power loss. Migrations are append-only (`PRAGMA user_version`).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use automerge::ChangeHash;
use onsite_domain::DocId;
use onsite_sync::access::OrderFacts;
use onsite_sync::relay::{
    self, AccessEvent, Caller, DocMeta, DocStore, DocWrite, FeedEntry, FeedReader, HandleError,
    Handled, Limits, Origin, StoredDoc,
};
use onsite_sync::views::Views;
use onsite_wire::{Role, SyncRequest};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::Notify;

use onsite_sync::relay::Committed;
use tokio::sync::broadcast;

use crate::history::{Ask, Found};
use crate::storage::{
    Centre, DocBytes, OrderRecord, RelayStorage, StorageError, StoredAttachment, TokenRecord, User,
};
use crate::throttle::{Attempts, Policy};

mod back_office;
pub(crate) mod backup;
mod feed;
mod jobs;
mod reminders;

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        StorageError::db(e)
    }
}

/// Append-only: never edit an entry, add a new one.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE users(
    user_id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at_ms INTEGER NOT NULL
);
CREATE TABLE tokens(
    token_sha256 TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(user_id),
    device_id TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    revoked_at_ms INTEGER
);
CREATE INDEX tokens_by_user ON tokens(user_id, device_id);
CREATE TABLE docs(
    doc_id TEXT PRIMARY KEY,
    bytes BLOB NOT NULL,
    heads BLOB NOT NULL,
    size INTEGER NOT NULL,
    order_no TEXT,
    assignee TEXT,
    assignees_ever TEXT,
    updated_seq INTEGER NOT NULL
);
CREATE INDEX docs_by_order_no ON docs(order_no);
CREATE TABLE changes(
    seq INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL,
    hash BLOB NOT NULL,
    bytes BLOB NOT NULL,
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    UNIQUE(doc_id, hash)
);
CREATE INDEX changes_by_doc ON changes(doc_id, seq);
CREATE TABLE access_events(
    seq INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    granted INTEGER NOT NULL
);
CREATE INDEX access_by_user ON access_events(user_id, seq);
"#,
    r#"
CREATE TABLE attachments(
    sha256 TEXT PRIMARY KEY,
    mime TEXT NOT NULL,
    bytes BLOB NOT NULL,
    uploaded_by TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);
"#,
    r#"
CREATE TABLE order_prefixes(
    device_id TEXT PRIMARY KEY,
    prefix TEXT NOT NULL UNIQUE,
    created_at_ms INTEGER NOT NULL
);
CREATE TABLE relay_keys(
    name TEXT PRIMARY KEY,
    key BLOB NOT NULL,
    created_at_ms INTEGER NOT NULL
);
"#,
    r#"
CREATE TABLE attachment_uploaders(
    sha256 TEXT NOT NULL REFERENCES attachments(sha256),
    user_id TEXT NOT NULL,
    PRIMARY KEY(sha256, user_id)
);
INSERT INTO attachment_uploaders(sha256, user_id) SELECT sha256, uploaded_by FROM attachments;
CREATE TABLE sign_in_attempts(
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_ms INTEGER NOT NULL,
    locked_until_ms INTEGER NOT NULL
);
"#,
    // The record hash of each signed visit (filled from the documents by `backfill_record_hashes`
    // when this migration runs, and by every commit after).
    r#"
ALTER TABLE docs ADD COLUMN record_hash TEXT;
CREATE INDEX docs_by_record_hash ON docs(record_hash);
"#,
    // The back office (issue 11): API tokens, the records export's snapshots, each order's facts
    // (to tell what a commit changed) and the outbox. Filled from the stored documents, without
    // events, by `back_office::backfill` when this migration runs.
    r#"
CREATE TABLE api_tokens(
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    revoked_at_ms INTEGER
);
CREATE TABLE order_facts(
    order_id TEXT PRIMARY KEY,
    facts TEXT NOT NULL
);
CREATE TABLE export_records(
    record_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX export_records_by_seq ON export_records(seq, record_id);
CREATE TABLE webhooks(
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    secret BLOB NOT NULL,
    created_at_ms INTEGER NOT NULL,
    removed_at_ms INTEGER
);
CREATE TABLE outbox_events(
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    unique_key TEXT UNIQUE,
    kind TEXT NOT NULL,
    ordering_key TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE TABLE deliveries(
    event INTEGER NOT NULL REFERENCES outbox_events(id),
    destination TEXT NOT NULL,
    ordering_key TEXT NOT NULL,
    state TEXT NOT NULL,
    in_flight INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    PRIMARY KEY(event, destination)
);
CREATE INDEX deliveries_due ON deliveries(state, next_attempt_ms);
CREATE INDEX deliveries_in_order ON deliveries(destination, ordering_key, state, event);
CREATE TABLE delivery_attempts(
    id INTEGER PRIMARY KEY,
    event INTEGER NOT NULL,
    destination TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    started_at_ms INTEGER NOT NULL,
    finished_at_ms INTEGER,
    outcome TEXT NOT NULL,
    http_status INTEGER,
    error TEXT,
    UNIQUE(event, destination, attempt),
    FOREIGN KEY(event, destination) REFERENCES deliveries(event, destination)
);
"#,
    // A document's metadata without its bytes, from the index alone: `record_hash` is stored after
    // the bytes in the table's rows, so reading it there walks the document's overflow pages
    // (every access check and every commit reads metadata; issue 13, the relay under load).
    r#"
CREATE INDEX docs_meta ON docs(doc_id, heads, size, order_no, assignee, assignees_ever, record_hash);
"#,
    // The technicians' feed index (`sqlite::feed`), filled from the stored changes when it runs.
    r#"
CREATE TABLE feed(
    reader TEXT NOT NULL,
    seq INTEGER NOT NULL,
    doc_id TEXT NOT NULL,
    PRIMARY KEY(reader, seq)
) WITHOUT ROWID;
"#,
    // Tenancy (issue 14): service centres; every user and every document but the company-wide
    // reference documents belongs to one. What was stored before belongs to the default centre,
    // and every stored change is listed in its centre's dispatchers' feed (`relay::centre_key`).
    // The metadata index is rebuilt with the centre so access checks still read no document bytes.
    r#"
CREATE TABLE centres(
    centre_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);
INSERT INTO centres(centre_id, name, created_at_ms) VALUES ('main', 'Service centre', 0);
ALTER TABLE users ADD COLUMN centre TEXT NOT NULL DEFAULT 'main';
ALTER TABLE docs ADD COLUMN centre TEXT;
UPDATE docs SET centre = 'main' WHERE doc_id NOT LIKE 'ref:%';
INSERT OR IGNORE INTO feed(reader, seq, doc_id)
    SELECT CASE WHEN doc_id LIKE 'ref:%' THEN '@*' ELSE '@main' END, seq, doc_id FROM changes;
DROP INDEX docs_meta;
CREATE INDEX docs_meta_centre
    ON docs(doc_id, heads, size, order_no, assignee, assignees_ever, record_hash, centre);
"#,
    // Partial replicas (issue 14): one row per order with what the history window and the history
    // search need (`crate::history`), filled from the stored orders when it runs.
    r#"
CREATE TABLE jobs(
    order_id TEXT PRIMARY KEY,
    centre TEXT,
    settled INTEGER NOT NULL,
    last_activity_ms INTEGER NOT NULL,
    order_no TEXT NOT NULL,
    customer_name TEXT NOT NULL,
    phone TEXT NOT NULL,
    household_id TEXT NOT NULL
);
CREATE INDEX jobs_by_household ON jobs(household_id, last_activity_ms);
CREATE INDEX jobs_by_phone ON jobs(phone);
CREATE INDEX jobs_by_order_no ON jobs(order_no);
"#,
    // Maintenance reminders at scale (issue 14): which households the reminders task must look at
    // and when (`crate::reminders`); every stored household is looked at once when it runs.
    r#"
CREATE TABLE reminder_checks(
    household_id TEXT PRIMARY KEY,
    check_at_ms INTEGER,
    generation INTEGER NOT NULL
);
CREATE INDEX reminder_checks_due ON reminder_checks(check_at_ms);
INSERT INTO reminder_checks(household_id, check_at_ms, generation)
    SELECT substr(doc_id, 11), 0, 1 FROM docs WHERE doc_id LIKE 'household:%';
"#,
];

/// The migration that added the job index: the orders stored before it are indexed when it runs.
const JOBS_MIGRATION: usize = 10;

/// The migration that added the technicians' feed index: the changes stored before it are
/// indexed when it runs.
const FEED_MIGRATION: usize = 8;

/// The migration that added the back-office tables: the orders stored before it get their facts
/// and record snapshots when it runs.
const BACK_OFFICE_MIGRATION: usize = 6;

/// The migration that added `docs.record_hash`: the visits stored before it are indexed when it runs.
const RECORD_HASH_MIGRATION: usize = 5;

/// The SQLite storage. One writing connection behind a mutex: SQLite has one writer anyway, and
/// every commit with its feed answer goes through it, which keeps the feed cursor consistent with
/// the commits. A sync request's expensive part — loading and merging Automerge documents — runs
/// first on a read-only connection ([`relay::prepare`]; WAL readers never wait for the writer),
/// and the mutex is taken only to check that nothing it loaded changed meanwhile and to commit
/// ([`relay::finish`]). Token and user look-ups (every request, every push stream's re-check)
/// and the feed head read on read-only connections too, so they never queue behind a commit.
/// Read-only connections are kept in a small pool ([`Readers`]) instead of opened per request.
pub struct SqliteStorage {
    conn: Mutex<Connection>,
    readers: Readers,
    /// Told after every sync that may have committed: the outbox task wakes up.
    committed: Arc<Notify>,
    /// Orders, visits and the template library as last read, for every request.
    views: Views,
}

/// Idle read-only connections, reused (each keeps its prepared statements); at most
/// [`READERS_KEPT`] are kept, more are opened when many requests read at once.
struct Readers {
    path: std::path::PathBuf,
    idle: Mutex<Vec<Connection>>,
}

/// Idle read-only connections kept open.
const READERS_KEPT: usize = 16;

/// Prepared statements each connection keeps (`prepare_cached`). rusqlite keeps 16 by default,
/// fewer than one sync request's commit uses (documents, feed, access events, the back office's
/// facts, records, outbox and job index): the cache evicted statements the same request then
/// prepared again — about 5 % of the relay's CPU under load (docs/benchmarks.md, "Sixth round").
const STATEMENTS_KEPT: usize = 128;

/// A read-only connection taken from [`Readers`]; back to the pool when dropped. Between two
/// statements it holds no transaction, so every statement reads the latest commit.
struct Reader<'a> {
    conn: Option<Connection>,
    pool: &'a Readers,
}

impl std::ops::Deref for Reader<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
            .as_ref()
            .expect("a reader holds its connection until dropped")
    }
}

impl std::ops::DerefMut for Reader<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn
            .as_mut()
            .expect("a reader holds its connection until dropped")
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        // A connection left inside a transaction (a panic mid-read) is not reused.
        if !conn.is_autocommit() {
            return;
        }
        if let Ok(mut idle) = self.pool.idle.lock()
            && idle.len() < READERS_KEPT
        {
            idle.push(conn);
        }
    }
}

/// `f` on the reader `conn` inside one read transaction. A connection `f` leaves inside it
/// (a panic) is not reused ([`Reader`]'s drop).
fn in_read_transaction<T>(
    conn: &mut Connection,
    f: impl FnOnce(&mut Connection) -> Result<T, HandleError<StorageError>>,
) -> Result<T, HandleError<StorageError>> {
    let storage = |e: rusqlite::Error| HandleError::Storage(StorageError::from(e));
    conn.execute_batch("BEGIN").map_err(storage)?;
    let out = f(conn);
    // Ends the read; nothing was written.
    conn.execute_batch("COMMIT").map_err(storage)?;
    out
}

impl Readers {
    fn take(&self) -> Result<Reader<'_>, StorageError> {
        let idle = self.idle.lock().map_err(|_| StorageError::Poisoned)?.pop();
        let conn = match idle {
            Some(c) => c,
            None => {
                let conn = Connection::open_with_flags(
                    &self.path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                conn.busy_timeout(std::time::Duration::from_secs(5))?;
                conn.set_prepared_statement_cache_capacity(STATEMENTS_KEPT);
                conn
            }
        };
        Ok(Reader {
            conn: Some(conn),
            pool: self,
        })
    }
}

impl SqliteStorage {
    /// Open (creating and migrating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteStorage, StorageError> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.set_prepared_statement_cache_capacity(STATEMENTS_KEPT);
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let tx = conn.transaction()?;
        for (i, m) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(m)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            if i + 1 == RECORD_HASH_MIGRATION {
                backfill_record_hashes(&tx)?;
            }
            if i + 1 == BACK_OFFICE_MIGRATION {
                back_office::backfill(&tx)?;
            }
            if i + 1 == FEED_MIGRATION {
                feed::backfill(&tx)?;
            }
            if i + 1 == JOBS_MIGRATION {
                jobs::backfill(&tx)?;
            }
        }
        tx.commit()?;
        Ok(SqliteStorage {
            conn: Mutex::new(conn),
            readers: Readers {
                path: path.to_owned(),
                idle: Mutex::new(Vec::new()),
            },
            committed: Arc::new(Notify::new()),
            views: Views::default(),
        })
    }

    /// A read-only connection from the pool, for reads that need no lock.
    fn reader(&self) -> Result<Reader<'_>, StorageError> {
        self.readers.take()
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>, StorageError> {
        self.conn.lock().map_err(|_| StorageError::Poisoned)
    }
}

fn role_of(s: &str) -> Result<Role, StorageError> {
    s.parse()
        .map_err(|e: String| StorageError::Corrupt(format!("user role: {e}")))
}

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(User, String)> {
    let role: String = r.get(2)?;
    Ok((
        User {
            user_id: r.get(0)?,
            display_name: r.get(1)?,
            role: Role::Technician,
            password_hash: r.get(3)?,
            disabled: r.get::<_, i64>(4)? != 0,
            created_at_ms: r.get(5)?,
            centre: r.get(6)?,
        },
        role,
    ))
}

fn finish_user((mut u, role): (User, String)) -> Result<User, StorageError> {
    u.role = role_of(&role)?;
    Ok(u)
}

fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRecord> {
    Ok(TokenRecord {
        token_sha256: r.get(0)?,
        user_id: r.get(1)?,
        device_id: r.get(2)?,
        created_at_ms: r.get(3)?,
        expires_at_ms: r.get(4)?,
        revoked_at_ms: r.get(5)?,
    })
}

fn encode_heads(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

fn decode_heads(bytes: &[u8]) -> Result<Vec<ChangeHash>, StorageError> {
    if !bytes.len().is_multiple_of(32) {
        return Err(StorageError::Corrupt("document heads".into()));
    }
    Ok(bytes
        .chunks_exact(32)
        .map(|c| ChangeHash(c.try_into().expect("32-byte chunk")))
        .collect())
}

fn parse_doc_id(s: &str) -> Result<DocId, StorageError> {
    s.parse()
        .map_err(|_| StorageError::Corrupt(format!("stored document id '{s}'")))
}

/// Index the record hash of every signed visit already stored (once, in the migration's
/// transaction). A visit that does not load is left unindexed: it verifies nothing anyway.
fn backfill_record_hashes(tx: &rusqlite::Transaction<'_>) -> Result<(), StorageError> {
    let mut visits = tx.prepare("SELECT doc_id, bytes FROM docs WHERE doc_id LIKE 'visit:%'")?;
    let rows = visits
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut set = tx.prepare("UPDATE docs SET record_hash = ?2 WHERE doc_id = ?1")?;
    for (doc_id, bytes) in rows {
        let hash = onsite_domain::doc::load(&bytes)
            .ok()
            .and_then(|d| onsite_domain::doc::read::<onsite_domain::visit::Visit>(&d).ok())
            .and_then(|v| v.signature)
            .map(|sig| sig.record_hash);
        if let Some(hash) = hash {
            set.execute(params![doc_id, hash])?;
        }
    }
    Ok(())
}

/// The stored visits of order `order_id`, by the key range [`visits_of`].
fn visit_ids(conn: &Connection, order_id: &str) -> Result<Vec<DocId>, StorageError> {
    let (from, to) = visits_of(order_id);
    let mut st =
        conn.prepare_cached("SELECT doc_id FROM docs WHERE doc_id >= ?1 AND doc_id < ?2")?;
    let ids = st.query_map([from, to], |r| r.get::<_, String>(0))?;
    ids.map(|id| parse_doc_id(&id?)).collect()
}

/// The key range `[from, to)` of order `order_id`'s visits (`visit:<order>:<technician>`): every
/// id starting `visit:<order>:` and nothing else, so the primary key's index finds them (a
/// `LIKE` reads the whole table; it also ignores case, which ids do not).
fn visits_of(order_id: &str) -> (String, String) {
    (format!("visit:{order_id}:"), format!("visit:{order_id};"))
}

/// An order's facts from its `docs` columns (`assignees_ever` comma-separated); `None` for a
/// document that is not an order (no number).
fn order_facts(
    order_no: Option<String>,
    assignee: Option<String>,
    ever: Option<String>,
) -> Option<OrderFacts> {
    Some(OrderFacts {
        order_no: order_no?,
        assignee,
        assignees_ever: ever
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

/// [`DocStore`] over a locked connection, for the duration of one request.
struct Docs<'a>(&'a mut Connection, &'a Views);

impl Docs<'_> {
    fn meta_row(
        &mut self,
        doc: &DocId,
        with_bytes: bool,
    ) -> Result<Option<(DocMeta, Vec<u8>)>, StorageError> {
        let sql = if with_bytes {
            "SELECT heads, size, order_no, assignee, assignees_ever, bytes, record_hash, centre FROM docs WHERE doc_id = ?1"
        } else {
            "SELECT heads, size, order_no, assignee, assignees_ever, x'', record_hash, centre FROM docs INDEXED BY docs_meta_centre WHERE doc_id = ?1"
        };
        let row = self
            .0
            .prepare_cached(sql)?
            .query_row([doc.to_string()], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Vec<u8>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                ))
            })
            .optional()?;
        let Some((heads, size, order_no, assignee, ever, bytes, record_hash, centre)) = row else {
            return Ok(None);
        };
        let order = order_facts(order_no, assignee, ever);
        Ok(Some((
            DocMeta {
                heads: decode_heads(&heads)?,
                size: size as u64,
                order,
                centre,
                record_hash,
            },
            bytes,
        )))
    }
}

impl DocStore for Docs<'_> {
    type Error = StorageError;

    fn head_seq(&mut self) -> Result<u64, StorageError> {
        let s: i64 = self
            .0
            .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM changes")?
            .query_row([], |r| r.get(0))?;
        Ok(s as u64)
    }

    fn meta(&mut self, doc: &DocId) -> Result<Option<DocMeta>, StorageError> {
        Ok(self.meta_row(doc, false)?.map(|(m, _)| m))
    }

    fn load(&mut self, doc: &DocId) -> Result<Option<StoredDoc>, StorageError> {
        Ok(self
            .meta_row(doc, true)?
            .map(|(meta, bytes)| StoredDoc { bytes, meta }))
    }

    fn commit(&mut self, writes: &[DocWrite], origin: &Origin) -> Result<u64, StorageError> {
        let tx = self.0.transaction()?;
        let mut seq: i64 = tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM changes", [], |r| {
            r.get(0)
        })?;
        {
            let mut has =
                tx.prepare_cached("SELECT 1 FROM changes WHERE doc_id = ?1 AND hash = ?2")?;
            let mut ins = tx.prepare_cached(
                "INSERT INTO changes(seq, doc_id, hash, bytes, user_id, device_id, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            let mut ev = tx.prepare_cached(
                "INSERT INTO access_events(seq, user_id, doc_id, granted) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let mut put = tx.prepare_cached(
                "INSERT INTO docs(doc_id, bytes, heads, size, order_no, assignee, assignees_ever, updated_seq, record_hash, centre)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT(doc_id) DO UPDATE SET bytes = excluded.bytes, heads = excluded.heads,
                   size = excluded.size, order_no = excluded.order_no, assignee = excluded.assignee,
                   assignees_ever = excluded.assignees_ever, updated_seq = excluded.updated_seq,
                   record_hash = excluded.record_hash",
            )?;
            for w in writes {
                let id = w.doc.to_string();
                for c in &w.changes {
                    if has.exists(params![id, c.hash.0.as_slice()])? {
                        continue;
                    }
                    seq += 1;
                    feed::insert(&tx, seq, &id, &w.readers, w.meta.centre.as_deref())?;
                    ins.execute(params![
                        seq,
                        id,
                        c.hash.0.as_slice(),
                        c.bytes,
                        origin.user_id,
                        origin.device_id,
                        origin.at_ms
                    ])?;
                }
                for (user, granted) in &w.access {
                    ev.execute(params![seq, user, id, *granted as i64])?;
                }
                let o = w.meta.order.as_ref();
                put.execute(params![
                    id,
                    w.bytes,
                    encode_heads(&w.meta.heads),
                    w.meta.size as i64,
                    o.map(|o| o.order_no.as_str()),
                    o.and_then(|o| o.assignee.as_deref()),
                    o.map(|o| o.assignees_ever.join(",")),
                    seq,
                    w.meta.record_hash,
                    w.meta.centre
                ])?;
            }
        }
        reminders::mark_written(&tx, writes)?;
        let orders: BTreeSet<String> = writes
            .iter()
            .filter_map(|w| back_office::order_of(&w.doc).map(str::to_owned))
            .collect();
        let written = crate::written::Written::of(writes, self.1);
        back_office::record_outward(&tx, &orders, &written, seq, origin.at_ms, true)?;
        tx.commit()?;
        Ok(seq as u64)
    }

    fn feed_changes(
        &mut self,
        reader: Option<FeedReader<'_>>,
        after: u64,
        upto: u64,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, StorageError> {
        feed::changes(self.0, reader, after, upto, limit)
    }

    fn user_centre(&mut self, user_id: &str) -> Result<Option<String>, StorageError> {
        Ok(self
            .0
            .prepare_cached("SELECT centre FROM users WHERE user_id = ?1")?
            .query_row([user_id], |r| r.get(0))
            .optional()?)
    }

    fn access_events(
        &mut self,
        user_id: &str,
        after: u64,
        upto: u64,
    ) -> Result<Vec<AccessEvent>, StorageError> {
        let mut st = self.0.prepare_cached(
            "SELECT seq, doc_id, granted FROM access_events WHERE user_id = ?1 AND seq > ?2 AND seq <= ?3 ORDER BY seq, rowid",
        )?;
        let rows = st.query_map(params![user_id, after as i64, upto as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, d, g) = row?;
            out.push(AccessEvent {
                seq: seq as u64,
                doc: parse_doc_id(&d)?,
                granted: g != 0,
            });
        }
        Ok(out)
    }

    fn views(&self) -> Option<&Views> {
        Some(self.1)
    }

    fn window_docs(
        &mut self,
        centre: Option<&str>,
        cutoff_ms: i64,
        range: onsite_sync::snapshot::KeyRange<'_>,
        limit: usize,
    ) -> Result<Vec<DocId>, StorageError> {
        jobs::window_docs(self.0, centre, cutoff_ms, range, limit)
    }

    fn window_count(
        &mut self,
        centre: Option<&str>,
        cutoff_ms: i64,
        range: onsite_sync::snapshot::KeyRange<'_>,
    ) -> Result<u64, StorageError> {
        jobs::window_count(self.0, centre, cutoff_ms, range)
    }

    fn orders_numbered(&mut self, order_no: &str) -> Result<Vec<DocId>, StorageError> {
        let mut st = self.0.prepare_cached(
            "SELECT doc_id FROM docs WHERE order_no = ?1 AND doc_id LIKE 'order:%' ORDER BY doc_id",
        )?;
        let rows = st.query_map([order_no], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(parse_doc_id(&row?)?);
        }
        Ok(out)
    }

    fn changes_after(&mut self, doc: &DocId, after: u64) -> Result<Vec<Vec<u8>>, StorageError> {
        let mut st = self.0.prepare_cached(
            "SELECT bytes FROM changes WHERE doc_id = ?1 AND seq > ?2 ORDER BY seq",
        )?;
        let rows = st.query_map(params![doc.to_string(), after as i64], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl RelayStorage for SqliteStorage {
    fn put_attachment(&self, a: &StoredAttachment, now_ms: i64) -> Result<bool, StorageError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let first = a.uploaders.first().map(String::as_str).unwrap_or_default();
        let new = tx.execute(
            "INSERT INTO attachments (sha256, mime, bytes, uploaded_by, created_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(sha256) DO NOTHING",
            params![a.sha256, a.mime, a.bytes, first, now_ms],
        )? == 1;
        for user in &a.uploaders {
            tx.execute(
                "INSERT OR IGNORE INTO attachment_uploaders(sha256, user_id) VALUES (?1, ?2)",
                params![a.sha256, user],
            )?;
        }
        tx.commit()?;
        Ok(new)
    }

    fn attachment(&self, sha256: &str) -> Result<Option<StoredAttachment>, StorageError> {
        let conn = self.conn()?;
        let Some((mime, bytes)) = conn
            .query_row(
                "SELECT mime, bytes FROM attachments WHERE sha256 = ?1",
                [sha256],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
        else {
            return Ok(None);
        };
        let mut q = conn.prepare(
            "SELECT user_id FROM attachment_uploaders WHERE sha256 = ?1 ORDER BY user_id",
        )?;
        let uploaders = q
            .query_map([sha256], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        let uploader_centres = conn
            .prepare(
                "SELECT DISTINCT u.centre FROM attachment_uploaders a JOIN users u USING (user_id)
                 WHERE a.sha256 = ?1 ORDER BY u.centre",
            )?
            .query_map([sha256], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(Some(StoredAttachment {
            sha256: sha256.to_owned(),
            mime,
            bytes,
            uploaders,
            uploader_centres,
        }))
    }

    fn add_user(&self, u: &User) -> Result<(), StorageError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let centre_exists = tx
            .prepare("SELECT 1 FROM centres WHERE centre_id = ?1")?
            .exists([&u.centre])?;
        if !centre_exists {
            return Err(StorageError::NoSuchCentre(u.centre.clone()));
        }
        let n = tx.execute(
            "INSERT OR IGNORE INTO users(user_id, display_name, role, password_hash, disabled, created_at_ms, centre) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![u.user_id, u.display_name, u.role.as_str(), u.password_hash, u.disabled as i64, u.created_at_ms, u.centre],
        )?;
        if n == 0 {
            return Err(StorageError::UserExists(u.user_id.clone()));
        }
        tx.commit()?;
        Ok(())
    }

    fn add_centre(&self, c: &Centre) -> Result<(), StorageError> {
        let n = self.conn()?.execute(
            "INSERT OR IGNORE INTO centres(centre_id, name, created_at_ms) VALUES (?1, ?2, ?3)",
            params![c.centre_id, c.name, c.created_at_ms],
        )?;
        if n == 0 {
            return Err(StorageError::CentreExists(c.centre_id.clone()));
        }
        Ok(())
    }

    fn centres(&self) -> Result<Vec<Centre>, StorageError> {
        let conn = self.reader()?;
        let mut st =
            conn.prepare("SELECT centre_id, name, created_at_ms FROM centres ORDER BY centre_id")?;
        let rows = st.query_map([], |r| {
            Ok(Centre {
                centre_id: r.get(0)?,
                name: r.get(1)?,
                created_at_ms: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn user(&self, user_id: &str) -> Result<Option<User>, StorageError> {
        let conn = self.reader()?;
        conn.query_row(
            "SELECT user_id, display_name, role, password_hash, disabled, created_at_ms, centre FROM users WHERE user_id = ?1",
            [user_id],
            user_row,
        )
        .optional()?
        .map(finish_user)
        .transpose()
    }

    fn users(&self) -> Result<Vec<User>, StorageError> {
        let conn = self.conn()?;
        let mut st = conn.prepare(
            "SELECT user_id, display_name, role, password_hash, disabled, created_at_ms, centre FROM users ORDER BY user_id",
        )?;
        let rows = st.query_map([], user_row)?;
        rows.map(|r| finish_user(r?)).collect()
    }

    fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<bool, StorageError> {
        let conn = self.conn()?;
        Ok(conn.execute(
            "UPDATE users SET disabled = ?2 WHERE user_id = ?1",
            params![user_id, disabled as i64],
        )? > 0)
    }

    fn set_password_hash(&self, user_id: &str, hash: &str) -> Result<bool, StorageError> {
        let conn = self.conn()?;
        Ok(conn.execute(
            "UPDATE users SET password_hash = ?2 WHERE user_id = ?1",
            params![user_id, hash],
        )? > 0)
    }

    fn add_token(&self, t: &TokenRecord) -> Result<(), StorageError> {
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO tokens(token_sha256, user_id, device_id, created_at_ms, expires_at_ms, revoked_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![t.token_sha256, t.user_id, t.device_id, t.created_at_ms, t.expires_at_ms, t.revoked_at_ms],
        )?;
        Ok(())
    }

    fn token(&self, token_sha256: &str) -> Result<Option<TokenRecord>, StorageError> {
        let conn = self.reader()?;
        // Cached: every request and every open push stream (each few seconds) asks.
        Ok(conn
            .prepare_cached(
                "SELECT token_sha256, user_id, device_id, created_at_ms, expires_at_ms, revoked_at_ms FROM tokens WHERE token_sha256 = ?1",
            )?
            .query_row([token_sha256], token_row)
            .optional()?)
    }

    fn revoke_tokens(
        &self,
        user_id: &str,
        device_id: Option<&str>,
        now_ms: i64,
    ) -> Result<usize, StorageError> {
        let conn = self.conn()?;
        Ok(conn.execute(
            "UPDATE tokens SET revoked_at_ms = ?3 WHERE user_id = ?1 AND (?2 IS NULL OR device_id = ?2) AND revoked_at_ms IS NULL",
            params![user_id, device_id, now_ms],
        )?)
    }

    fn revoke_token(&self, token_sha256: &str, now_ms: i64) -> Result<bool, StorageError> {
        let conn = self.conn()?;
        Ok(conn.execute(
            "UPDATE tokens SET revoked_at_ms = ?2 WHERE token_sha256 = ?1 AND revoked_at_ms IS NULL",
            params![token_sha256, now_ms],
        )? > 0)
    }

    fn sync(
        &self,
        caller: &Caller,
        req: &SyncRequest,
        limits: &Limits,
        now_ms: i64,
    ) -> Result<Handled, HandleError<StorageError>> {
        for _ in 0..relay::PREPARE_ATTEMPTS {
            let mut reader = self.reader().map_err(HandleError::Storage)?;
            let prepared = relay::prepare(
                &mut Docs(&mut reader, &self.views),
                caller,
                req,
                limits,
                now_ms,
            )?;
            let finished = if prepared.writes_nothing() {
                // Nothing to store: answered on the reader, in one read transaction (a first
                // sync's page reads hundreds of rows, and a statement outside a transaction takes
                // and drops the database's read lock each time), which also gives the answer one
                // state of the database.
                let finish = |conn: &mut Connection| {
                    let mut docs = Docs(conn, &self.views);
                    relay::finish(&mut docs, caller, req, prepared, limits, now_ms)
                };
                in_read_transaction(&mut reader, finish)?
            } else {
                drop(reader);
                let mut conn = self.conn().map_err(HandleError::Storage)?;
                let mut docs = Docs(&mut conn, &self.views);
                relay::finish(&mut docs, caller, req, prepared, limits, now_ms)?
            };
            if let Some(handled) = finished {
                if handled.committed.is_some() {
                    self.committed.notify_one();
                }
                return Ok(handled);
            }
        }
        Err(HandleError::Refused(onsite_sync::SyncError::Contended))
    }

    fn head_seq(&self) -> Result<u64, StorageError> {
        let mut conn = self.reader()?;
        Docs(&mut conn, &self.views).head_seq()
    }

    fn doc(&self, doc: &DocId) -> Result<Option<Vec<u8>>, StorageError> {
        let mut conn = self.reader()?;
        Ok(Docs(&mut conn, &self.views).load(doc)?.map(|d| d.bytes))
    }

    fn signed_record_exists(&self, order_no: &str, hash: &str) -> Result<bool, StorageError> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached(
            "SELECT 1 FROM docs AS v JOIN docs AS o
               ON o.doc_id = 'order:' || substr(v.doc_id, 7, instr(substr(v.doc_id, 7), ':') - 1)
             WHERE v.record_hash = ?2 AND v.doc_id LIKE 'visit:%' AND o.order_no = ?1
             LIMIT 1",
        )?;
        Ok(st.exists(params![order_no, hash])?)
    }

    fn order_record(&self, order_no: &str) -> Result<Option<OrderRecord>, StorageError> {
        let conn = self.reader()?;
        let mut found = conn.prepare_cached(
            "SELECT doc_id, bytes FROM docs WHERE order_no = ?1 AND doc_id LIKE 'order:%' ORDER BY doc_id LIMIT 2",
        )?;
        let orders = found
            .query_map([order_no], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        drop(found);
        // Exactly one order: a number two orders share (stored before the relay refused
        // duplicates) verifies nothing.
        let (order_doc, bytes) = match <[_; 1]>::try_from(orders) {
            Ok([one]) => one,
            Err(orders) => {
                if orders.len() > 1 {
                    tracing::warn!(order_no, "verify: several orders share this number");
                }
                return Ok(None);
            }
        };
        let order_id = order_doc.trim_start_matches("order:").to_owned();
        let mut st = conn.prepare_cached(
            "SELECT doc_id, bytes FROM docs WHERE doc_id >= ?1 AND doc_id < ?2 ORDER BY doc_id",
        )?;
        let (from, to) = visits_of(&order_id);
        let rows = st.query_map([from, to], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut visits = Vec::new();
        for row in rows {
            let (d, b) = row?;
            visits.push(DocBytes {
                doc: parse_doc_id(&d)?,
                bytes: b,
            });
        }
        Ok(Some(OrderRecord {
            order: DocBytes {
                doc: parse_doc_id(&order_doc)?,
                bytes,
            },
            visits,
        }))
    }

    fn order_prefix(&self, device_id: &str) -> Result<Option<String>, StorageError> {
        let conn = self.conn()?;
        Ok(conn
            .query_row(
                "SELECT prefix FROM order_prefixes WHERE device_id = ?1",
                [device_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn claim_order_prefix(
        &self,
        device_id: &str,
        prefix: &str,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        let conn = self.conn()?;
        Ok(conn.execute(
            "INSERT OR IGNORE INTO order_prefixes(device_id, prefix, created_at_ms) VALUES (?1, ?2, ?3)",
            params![device_id, prefix, now_ms],
        )? == 1)
    }

    fn relay_key(&self, name: &str, fresh: &[u8], now_ms: i64) -> Result<Vec<u8>, StorageError> {
        let conn = self.conn()?;
        conn.execute(
            "INSERT OR IGNORE INTO relay_keys(name, key, created_at_ms) VALUES (?1, ?2, ?3)",
            params![name, fresh, now_ms],
        )?;
        Ok(
            conn.query_row("SELECT key FROM relay_keys WHERE name = ?1", [name], |r| {
                r.get(0)
            })?,
        )
    }

    fn replace_relay_key(&self, name: &str, key: &[u8], now_ms: i64) -> Result<(), StorageError> {
        self.conn()?.execute(
            "INSERT OR REPLACE INTO relay_keys(name, key, created_at_ms) VALUES (?1, ?2, ?3)",
            params![name, key, now_ms],
        )?;
        Ok(())
    }

    fn history(
        &self,
        centre: Option<&str>,
        ask: &Ask,
        limit: usize,
    ) -> Result<Vec<Found>, StorageError> {
        let reader = self.reader()?;
        jobs::search(&reader, centre, ask, limit)
    }

    fn profiles(&self) -> Result<Vec<DocBytes>, StorageError> {
        let conn = self.conn()?;
        let mut st = conn.prepare(
            "SELECT doc_id, bytes FROM docs WHERE doc_id LIKE 'profile:%' ORDER BY doc_id",
        )?;
        let rows = st.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (d, bytes) = row?;
            out.push(DocBytes {
                doc: parse_doc_id(&d)?,
                bytes,
            });
        }
        Ok(out)
    }

    fn sign_in_attempts(&self, key: &str) -> Result<Attempts, StorageError> {
        let conn = self.conn()?;
        Ok(conn
            .query_row(
                "SELECT failures, locked_until_ms FROM sign_in_attempts WHERE key = ?1",
                [key],
                |r| {
                    Ok(Attempts {
                        failures: r.get(0)?,
                        locked_until_ms: r.get(1)?,
                    })
                },
            )
            .optional()?
            .unwrap_or_default())
    }

    fn add_sign_in_failure(
        &self,
        key: &str,
        policy: &Policy,
        now_ms: i64,
    ) -> Result<Attempts, StorageError> {
        let conn = self.conn()?;
        let failures: u32 = conn.query_row(
            "INSERT INTO sign_in_attempts(key, failures, last_failure_ms, locked_until_ms)
             VALUES (?1, 1, ?2, 0)
             ON CONFLICT(key) DO UPDATE SET failures = failures + 1, last_failure_ms = ?2
             RETURNING failures",
            params![key, now_ms],
            |r| r.get(0),
        )?;
        let locked_until_ms = match policy.lock_ms(failures) {
            0 => 0,
            lock => now_ms + lock,
        };
        conn.execute(
            "UPDATE sign_in_attempts SET locked_until_ms = ?2 WHERE key = ?1",
            params![key, locked_until_ms],
        )?;
        Ok(Attempts {
            failures,
            locked_until_ms,
        })
    }

    fn clear_sign_in_failures(&self, key: &str) -> Result<bool, StorageError> {
        let conn = self.conn()?;
        Ok(conn.execute("DELETE FROM sign_in_attempts WHERE key = ?1", [key])? > 0)
    }

    fn change_count(&self) -> Result<u64, StorageError> {
        let conn = self.conn()?;
        let n: i64 = conn.query_row("SELECT COUNT(*) FROM changes", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn committed(&self) -> Arc<Notify> {
        self.committed.clone()
    }

    /// One relay process owns a SQLite file: every commit is its own, pushed by the API.
    fn foreign_commits(&self) -> Option<broadcast::Receiver<Arc<Committed>>> {
        None
    }
}
