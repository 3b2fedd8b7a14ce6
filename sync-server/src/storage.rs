//! What the relay stores, behind [`RelayStorage`] (embedded SQLite, [`crate::sqlite`], or
//! PostgreSQL for several relay instances, [`crate::postgres`]): accounts, tokens, documents with
//! their numbered change log, and access events. Nothing outside the two backends names a
//! database driver's types.

use std::path::Path;
use std::sync::Arc;

use onsite_domain::DocId;
use onsite_sync::relay::{Caller, Committed, HandleError, Handled, Limits};
use onsite_wire::{Role, SyncRequest};
use tokio::sync::{Notify, broadcast};

use crate::throttle::{Attempts, Policy};

/// A storage failure. Nothing of the failed operation was acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database refused or failed an operation; `source` is the driver's error.
    #[error("database error: {message}; check the database, disk space and permissions")]
    Db {
        message: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    #[error("user '{0}' already exists; pick another id or use reset-password")]
    UserExists(String),
    #[error("service centre '{0}' already exists; pick another id")]
    CentreExists(String),
    #[error("there is no service centre '{0}'; add it first (`onsite-relay centre add`)")]
    NoSuchCentre(String),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("the storage lock was poisoned by a crash in another request; restart the relay")]
    Poisoned,
}

impl StorageError {
    /// A driver's error as a [`StorageError::Db`] (the backends' `From` conversions).
    pub(crate) fn db(source: impl std::error::Error + Send + Sync + 'static) -> StorageError {
        StorageError::Db {
            message: source.to_string(),
            source: Box::new(source),
        }
    }
}

/// Which database a relay uses, from its `database` setting: a `postgres://` (or
/// `postgresql://`) URL selects PostgreSQL, anything else is the path of a SQLite file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database<'a> {
    Sqlite(&'a Path),
    Postgres(&'a str),
}

impl<'a> Database<'a> {
    pub fn of(setting: &'a Path) -> Database<'a> {
        match setting.to_str() {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Database::Postgres(url)
            }
            _ => Database::Sqlite(setting),
        }
    }

    /// How logs name it: the SQLite path, or the PostgreSQL URL without its password.
    pub fn shown(&self) -> String {
        match self {
            Database::Sqlite(path) => path.display().to_string(),
            Database::Postgres(url) => hide_password(url),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn hide_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((who, host)) if who.contains(':') => {
            let user = who.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

/// Open (creating and migrating if needed) the relay's database as its `database` setting names
/// it ([`Database::of`]).
pub fn open(setting: &Path) -> Result<Arc<dyn RelayStorage>, StorageError> {
    Ok(match Database::of(setting) {
        Database::Sqlite(path) => Arc::new(crate::sqlite::SqliteStorage::open(path)?),
        Database::Postgres(url) => Arc::new(crate::postgres::PostgresStorage::open(url)?),
    })
}

/// One account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub user_id: String,
    pub display_name: String,
    pub role: Role,
    /// The service centre the user belongs to (for an admin: their home centre; admins reach
    /// every centre).
    pub centre: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub disabled: bool,
    pub created_at_ms: i64,
}

/// One issued token (only its SHA-256 is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub token_sha256: String,
    pub user_id: String,
    pub device_id: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

/// A stored document's saved bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocBytes {
    pub doc: DocId,
    pub bytes: Vec<u8>,
}

/// What the public `/verify/<order-no>/<hash>` page needs: the order and every visit on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    pub order: DocBytes,
    pub visits: Vec<DocBytes>,
}

/// An attachment (photo or signature image) as stored: content-addressed by SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAttachment {
    pub sha256: String,
    pub mime: String,
    pub bytes: Vec<u8>,
    /// Every user who uploaded these bytes (a technician may read back only what they uploaded;
    /// two users uploading the same bytes both may).
    pub uploaders: Vec<String>,
    /// The service centres of the uploaders (filled when read; a dispatcher reads the records
    /// of their own centre).
    pub uploader_centres: Vec<String>,
}

/// One service centre of the company.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Centre {
    pub centre_id: String,
    pub name: String,
    pub created_at_ms: i64,
}

/// The centre every account and document stored before tenancy belongs to, and the one
/// `user add` uses when none is named: a single-centre deployment never names one.
pub const DEFAULT_CENTRE: &str = "main";

/// Everything the relay stores; the back office's parts are their own traits (API tokens, the
/// records export, the outbox).
pub trait RelayStorage:
    crate::tokens::ApiTokenStore
    + crate::export::RecordExport
    + crate::outbox::OutboxStore
    + crate::reminders::ReminderStore
    + Send
    + Sync
    + 'static
{
    /// Fails with [`StorageError::NoSuchCentre`] when the user's centre does not exist.
    fn add_user(&self, user: &User) -> Result<(), StorageError>;
    /// Fails with [`StorageError::CentreExists`] when the id is taken.
    fn add_centre(&self, centre: &Centre) -> Result<(), StorageError>;
    fn centres(&self) -> Result<Vec<Centre>, StorageError>;
    fn user(&self, user_id: &str) -> Result<Option<User>, StorageError>;
    fn users(&self) -> Result<Vec<User>, StorageError>;
    /// Returns false when there is no such user.
    fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<bool, StorageError>;
    /// Returns false when there is no such user.
    fn set_password_hash(&self, user_id: &str, hash: &str) -> Result<bool, StorageError>;

    fn add_token(&self, token: &TokenRecord) -> Result<(), StorageError>;
    fn token(&self, token_sha256: &str) -> Result<Option<TokenRecord>, StorageError>;
    /// Revoke the user's live tokens (all, or one device's); returns how many.
    fn revoke_tokens(
        &self,
        user_id: &str,
        device_id: Option<&str>,
        now_ms: i64,
    ) -> Result<usize, StorageError>;
    /// Revoke one token; returns false when it was unknown or already revoked.
    fn revoke_token(&self, token_sha256: &str, now_ms: i64) -> Result<bool, StorageError>;

    /// Handle one sync request atomically with respect to other requests.
    fn sync(
        &self,
        caller: &Caller,
        req: &SyncRequest,
        limits: &Limits,
        now_ms: i64,
    ) -> Result<Handled, HandleError<StorageError>>;
    /// Sequence number of the newest stored change.
    fn head_seq(&self) -> Result<u64, StorageError>;
    /// Saved bytes of one document.
    fn doc(&self, doc: &DocId) -> Result<Option<Vec<u8>>, StorageError>;
    /// Whether a visit of the order numbered `order_no` carries a customer's signature over the
    /// record hash `hash` — an index lookup, no document loaded, the same work whether or not
    /// the number exists (the public verify page asks this first).
    fn signed_record_exists(&self, order_no: &str, hash: &str) -> Result<bool, StorageError>;
    /// The one order with this human order number and its visits (for the public verify page);
    /// `None` when no order, or more than one, has the number.
    fn order_record(&self, order_no: &str) -> Result<Option<OrderRecord>, StorageError>;
    /// Store an attachment whose SHA-256 the caller has checked; storing the same bytes again
    /// changes nothing. Committed before returning. Returns whether it was new.
    fn put_attachment(
        &self,
        attachment: &StoredAttachment,
        now_ms: i64,
    ) -> Result<bool, StorageError>;
    /// The attachment with this SHA-256, if stored.
    fn attachment(&self, sha256: &str) -> Result<Option<StoredAttachment>, StorageError>;
    /// How many changes are stored (all documents).
    fn change_count(&self) -> Result<u64, StorageError>;
    /// The order-number prefix allocated to a device, if any.
    fn order_prefix(&self, device_id: &str) -> Result<Option<String>, StorageError>;
    /// Allocate `prefix` to `device_id`; false (and nothing changed) when the device already has
    /// a prefix or another device holds this one.
    fn claim_order_prefix(
        &self,
        device_id: &str,
        prefix: &str,
        now_ms: i64,
    ) -> Result<bool, StorageError>;
    /// The relay's secret key named `name`, stored as `fresh` on first use (then kept for good).
    fn relay_key(&self, name: &str, fresh: &[u8], now_ms: i64) -> Result<Vec<u8>, StorageError>;
    /// Replace the relay's key named `name` with `key` (the database epoch, renewed when the
    /// database is restored from a backup: `crate::backup`).
    fn replace_relay_key(&self, name: &str, key: &[u8], now_ms: i64) -> Result<(), StorageError>;
    /// The jobs of the whole history `ask` finds (`crate::history`), in `centre` (`None`: every
    /// centre), newest activity first, at most `limit`; access is checked by the caller.
    fn history(
        &self,
        centre: Option<&str>,
        ask: &crate::history::Ask,
        limit: usize,
    ) -> Result<Vec<crate::history::Found>, StorageError>;
    /// Every stored `profile:` document.
    fn profiles(&self) -> Result<Vec<DocBytes>, StorageError>;
    /// The failed sign-ins recorded for a throttle key (`crate::throttle::Key`).
    fn sign_in_attempts(&self, key: &str) -> Result<Attempts, StorageError>;
    /// Record one more failed sign-in for `key` at `now_ms` and lock it as `policy` says, in one
    /// step (concurrent failures each count).
    fn add_sign_in_failure(
        &self,
        key: &str,
        policy: &Policy,
        now_ms: i64,
    ) -> Result<Attempts, StorageError>;
    /// Forget `key`'s failures and lock (a successful sign-in, or an administrator lifting the
    /// lock); whether there were any.
    fn clear_sign_in_failures(&self, key: &str) -> Result<bool, StorageError>;

    /// Notified after every commit this storage learns of (this relay's, and with PostgreSQL
    /// another instance's): the outbox and reminder tasks wait on it.
    fn committed(&self) -> Arc<Notify>;
    /// Commits made through other relay instances on the same database, as they become visible,
    /// for the push streams of devices connected to this one. `None` when no other instance can
    /// write the database (SQLite: one relay process owns the file).
    fn foreign_commits(&self) -> Option<broadcast::Receiver<Arc<Committed>>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_url_selects_postgres_and_anything_else_is_a_sqlite_path() {
        let url = Path::new("postgres://relay:s3cret@db.internal:5432/onsite");
        assert_eq!(
            Database::of(url),
            Database::Postgres("postgres://relay:s3cret@db.internal:5432/onsite")
        );
        assert_eq!(
            Database::of(url).shown(),
            "postgres://relay:***@db.internal:5432/onsite",
            "logs never show the password"
        );
        let other = Path::new("postgresql://localhost/onsite");
        assert!(matches!(Database::of(other), Database::Postgres(_)));
        let file = Path::new("data/postgres.sqlite3");
        assert_eq!(Database::of(file), Database::Sqlite(file));
    }
}
