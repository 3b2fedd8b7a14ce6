//! The PostgreSQL [`RelayStorage`], for several relay instances on one database. The same
//! tables and meaning as [`crate::sqlite`]; append-only migrations recorded in
//! `schema_migrations` ([`migrations`]). Every statement runs on a pooled connection
//! (`r2d2_postgres`); a commit returns only after PostgreSQL has made it durable
//! (`synchronous_commit` on, the default).
//!
//! # The gap-free feed
//!
//! The changes feed hands a device every change after its cursor, a sequence number. The
//! hazard of numbering changes in a database several writers share: with numbers from a
//! `SEQUENCE` (or `MAX(seq) + 1` in separate transactions), transaction A takes 10 and B takes 11,
//! B commits first; a device reading now sees 11, moves its cursor to 11, and never asks for 10
//! again once A commits — a change lost to that device for ever.
//!
//! Here the head of the feed is one row, `feed_head`, and a transaction that stores changes
//! locks it `FOR UPDATE` before it checks anything ([`docs::Docs`] in finishing mode), takes
//! its numbers from it, and writes the new head in the same transaction. Commits that take
//! numbers are therefore serialised, and each becomes visible (atomically, with the head row)
//! before the next can take a number: whoever reads head `h` can already read every change
//! numbered up to `h`. A feed answer reads the head first and then only `(cursor, head]`. Holding
//! the lock also gives [`relay::finish`]'s re-check (is every loaded document still at the heads
//! it was prepared on, may the caller still write it, are its order numbers still free) the
//! meaning the SQLite writer mutex gives it across instances. A request that stores nothing
//! never takes the lock.
//!
//! # Push across instances
//!
//! The committing transaction also sends `pg_notify` on [`notify::CHANNEL`] with what it
//! changed (delivered only if it commits); every instance LISTENs ([`notify::listen`]) and hands
//! other instances' commits to its push streams ([`RelayStorage::foreign_commits`]) and its
//! outbox ([`RelayStorage::committed`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use onsite_domain::DocId;
use onsite_sync::relay::{self, Caller, Committed, DocStore, HandleError, Handled, Limits};
use onsite_sync::views::Views;
use onsite_wire::SyncRequest;
use postgres::{Client, NoTls};
use r2d2_postgres::PostgresConnectionManager;
use r2d2_postgres::r2d2::Pool;
use tokio::sync::{Notify, broadcast};

use crate::storage::{
    Centre, DocBytes, OrderRecord, RelayStorage, StorageError, StoredAttachment, TokenRecord, User,
};
use crate::throttle::{Attempts, Policy};

mod accounts;
mod back_office;
mod commit;
mod docs;
mod jobs;
mod migrations;
mod notify;
pub use notify::LISTENER_NAME;
mod outward;
mod reads;
mod reminders;

impl From<postgres::Error> for StorageError {
    fn from(e: postgres::Error) -> Self {
        StorageError::db(e)
    }
}

impl From<r2d2_postgres::r2d2::Error> for StorageError {
    fn from(e: r2d2_postgres::r2d2::Error) -> Self {
        StorageError::db(e)
    }
}

/// Most connections one instance keeps to PostgreSQL: one per sync request doing storage work
/// at once ([`crate::api::sync_turns`]; a request keeps its connection from prepare to answer)
/// and [`SPARE_CONNECTIONS`] for the look-ups every request makes (tokens, users).
fn pool_size() -> u32 {
    crate::api::sync_turns() as u32 + SPARE_CONNECTIONS
}

const SPARE_CONNECTIONS: u32 = 8;

/// The PostgreSQL storage of one relay instance.
pub struct PostgresStorage {
    /// Always `Some` but while dropping (closing connections blocks: done off the runtime).
    pool: Option<Pool<PostgresConnectionManager<NoTls>>>,
    /// This instance's name in the notifications it sends (its own are not pushed twice).
    instance: String,
    committed: Arc<Notify>,
    foreign: broadcast::Sender<Arc<Committed>>,
    /// Set when the storage is dropped: the listener thread ends.
    stop: Arc<AtomicBool>,
    /// Orders, visits and the template library as last read, for every request.
    views: Views,
}

impl PostgresStorage {
    /// Connect to `url` (`postgres://user:password@host:port/database`), migrate, and listen for
    /// other instances' commits.
    pub fn open(url: &str) -> Result<PostgresStorage, StorageError> {
        off_runtime(|| PostgresStorage::connect(url))
    }

    fn connect(url: &str) -> Result<PostgresStorage, StorageError> {
        let config: postgres::Config = url.parse()?;
        let pool = Pool::builder()
            .max_size(pool_size())
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .build(PostgresConnectionManager::new(config.clone(), NoTls))?;
        let mut first = pool.get()?;
        migrations::run(&mut first)?;
        drop(first);
        let storage = PostgresStorage {
            pool: Some(pool),
            instance: notify::instance_name(),
            committed: Arc::new(Notify::new()),
            foreign: broadcast::channel(256).0,
            stop: Arc::new(AtomicBool::new(false)),
            views: Views::default(),
        };
        notify::listen(
            config,
            storage.instance.clone(),
            storage.committed.clone(),
            storage.foreign.clone(),
            storage.stop.clone(),
        )?;
        Ok(storage)
    }

    /// Run `f` on a pooled connection. The driver blocks on a runtime of its own, which tokio
    /// forbids on a thread that drives async tasks, so `f` runs where blocking is allowed.
    fn with<T: Send>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, StorageError> + Send,
    ) -> Result<T, StorageError> {
        off_runtime(|| {
            let mut conn = self.connection()?;
            f(&mut conn)
        })
    }

    fn connection(
        &self,
    ) -> Result<r2d2_postgres::r2d2::PooledConnection<PostgresConnectionManager<NoTls>>, StorageError>
    {
        Ok(self
            .pool
            .as_ref()
            .expect("the pool lives until drop")
            .get()?)
    }
}

impl Drop for PostgresStorage {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(pool) = self.pool.take() {
            off_runtime(move || drop(pool));
        }
    }
}

/// Run `f` where a blocking call is allowed: inline outside tokio; through `block_in_place` on a
/// multi-threaded runtime; on a scoped thread of its own on a current-thread runtime (tests).
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Err(_) => f(),
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        Ok(_) => std::thread::scope(|s| {
            s.spawn(f)
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        }),
    }
}

/// A stored document id that does not parse is damage.
fn parse_doc_id(s: &str) -> Result<DocId, StorageError> {
    s.parse()
        .map_err(|_| StorageError::Corrupt(format!("stored document id '{s}'")))
}

/// One sync request: prepared on a pooled connection without any lock, then finished in one
/// transaction that holds the feed head's lock from its first check to its commit (see the
/// module docs); prepared again when what it loaded changed meanwhile.
fn sync_on(
    conn: &mut Client,
    caller: &Caller,
    req: &SyncRequest,
    limits: &Limits,
    now_ms: i64,
    instance: &str,
    views: &Views,
) -> Result<Option<Handled>, HandleError<StorageError>> {
    let prepared = relay::prepare(
        &mut docs::Docs::reading(conn, Some(views)),
        caller,
        req,
        limits,
        now_ms,
    )?;
    let mut finishing = docs::Docs::finishing(conn, instance, views);
    let finished = relay::finish(&mut finishing, caller, req, prepared, limits, now_ms);
    finishing.end().map_err(HandleError::Storage)?;
    finished
}

impl RelayStorage for PostgresStorage {
    fn add_user(&self, user: &User) -> Result<(), StorageError> {
        self.with(|c| accounts::add_user(c, user))
    }

    fn add_centre(&self, centre: &Centre) -> Result<(), StorageError> {
        self.with(|c| accounts::add_centre(c, centre))
    }

    fn centres(&self) -> Result<Vec<Centre>, StorageError> {
        self.with(accounts::centres)
    }

    fn user(&self, user_id: &str) -> Result<Option<User>, StorageError> {
        self.with(|c| accounts::user(c, user_id))
    }

    fn users(&self) -> Result<Vec<User>, StorageError> {
        self.with(accounts::users)
    }

    fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<bool, StorageError> {
        self.with(|c| accounts::set_disabled(c, user_id, disabled))
    }

    fn set_password_hash(&self, user_id: &str, hash: &str) -> Result<bool, StorageError> {
        self.with(|c| accounts::set_password_hash(c, user_id, hash))
    }

    fn add_token(&self, token: &TokenRecord) -> Result<(), StorageError> {
        self.with(|c| accounts::add_token(c, token))
    }

    fn token(&self, token_sha256: &str) -> Result<Option<TokenRecord>, StorageError> {
        self.with(|c| accounts::token(c, token_sha256))
    }

    fn revoke_tokens(
        &self,
        user_id: &str,
        device_id: Option<&str>,
        now_ms: i64,
    ) -> Result<usize, StorageError> {
        self.with(|c| accounts::revoke_tokens(c, user_id, device_id, now_ms))
    }

    fn revoke_token(&self, token_sha256: &str, now_ms: i64) -> Result<bool, StorageError> {
        self.with(|c| accounts::revoke_token(c, token_sha256, now_ms))
    }

    fn sync(
        &self,
        caller: &Caller,
        req: &SyncRequest,
        limits: &Limits,
        now_ms: i64,
    ) -> Result<Handled, HandleError<StorageError>> {
        off_runtime(|| {
            let mut conn = self.connection().map_err(HandleError::Storage)?;
            for _ in 0..relay::PREPARE_ATTEMPTS {
                if let Some(handled) = sync_on(
                    &mut conn,
                    caller,
                    req,
                    limits,
                    now_ms,
                    &self.instance,
                    &self.views,
                )? {
                    if handled.committed.is_some() {
                        self.committed.notify_one();
                    }
                    return Ok(handled);
                }
            }
            Err(HandleError::Refused(onsite_sync::SyncError::Contended))
        })
    }

    fn head_seq(&self) -> Result<u64, StorageError> {
        self.with(|c| docs::Docs::reading(c, None).head_seq())
    }

    fn doc(&self, doc: &DocId) -> Result<Option<Vec<u8>>, StorageError> {
        self.with(|c| Ok(docs::Docs::reading(c, None).load(doc)?.map(|d| d.bytes)))
    }

    fn signed_record_exists(&self, order_no: &str, hash: &str) -> Result<bool, StorageError> {
        self.with(|c| reads::signed_record_exists(c, order_no, hash))
    }

    fn order_record(&self, order_no: &str) -> Result<Option<OrderRecord>, StorageError> {
        self.with(|c| reads::order_record(c, order_no))
    }

    fn put_attachment(&self, a: &StoredAttachment, now_ms: i64) -> Result<bool, StorageError> {
        self.with(|c| reads::put_attachment(c, a, now_ms))
    }

    fn attachment(&self, sha256: &str) -> Result<Option<StoredAttachment>, StorageError> {
        self.with(|c| reads::attachment(c, sha256))
    }

    fn change_count(&self) -> Result<u64, StorageError> {
        self.with(|c| {
            let n: i64 = c.query_one("SELECT COUNT(*) FROM changes", &[])?.get(0);
            Ok(n as u64)
        })
    }

    fn order_prefix(&self, device_id: &str) -> Result<Option<String>, StorageError> {
        self.with(|c| accounts::order_prefix(c, device_id))
    }

    fn claim_order_prefix(
        &self,
        device_id: &str,
        prefix: &str,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        self.with(|c| accounts::claim_order_prefix(c, device_id, prefix, now_ms))
    }

    fn relay_key(&self, name: &str, fresh: &[u8], now_ms: i64) -> Result<Vec<u8>, StorageError> {
        self.with(|c| accounts::relay_key(c, name, fresh, now_ms))
    }

    fn replace_relay_key(&self, name: &str, key: &[u8], now_ms: i64) -> Result<(), StorageError> {
        self.with(|c| accounts::replace_relay_key(c, name, key, now_ms))
    }

    fn history(
        &self,
        centre: Option<&str>,
        ask: &crate::history::Ask,
        limit: usize,
    ) -> Result<Vec<crate::history::Found>, StorageError> {
        self.with(|c| jobs::search(c, centre, ask, limit))
    }

    fn profiles(&self) -> Result<Vec<DocBytes>, StorageError> {
        self.with(reads::profiles)
    }

    fn sign_in_attempts(&self, key: &str) -> Result<Attempts, StorageError> {
        self.with(|c| accounts::sign_in_attempts(c, key))
    }

    fn add_sign_in_failure(
        &self,
        key: &str,
        policy: &Policy,
        now_ms: i64,
    ) -> Result<Attempts, StorageError> {
        self.with(|c| accounts::add_sign_in_failure(c, key, policy, now_ms))
    }

    fn clear_sign_in_failures(&self, key: &str) -> Result<bool, StorageError> {
        self.with(|c| accounts::clear_sign_in_failures(c, key))
    }

    fn committed(&self) -> Arc<Notify> {
        self.committed.clone()
    }

    fn foreign_commits(&self) -> Option<broadcast::Receiver<Arc<Committed>>> {
        Some(self.foreign.subscribe())
    }
}
