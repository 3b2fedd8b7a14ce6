//! What the relay stores, behind [`RelayStorage`] (SQLite now, PostgreSQL later): accounts,
//! tokens, documents with their numbered change log, and access events.

use onsite_domain::DocId;
use onsite_sync::relay::{Caller, HandleError, Handled, Limits};
use onsite_wire::{Role, SyncRequest};

use crate::throttle::{Attempts, Policy};

/// A storage failure. Nothing of the failed operation was acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}; check the database file, disk space and permissions")]
    Db(#[from] rusqlite::Error),
    #[error("user '{0}' already exists; pick another id or use reset-password")]
    UserExists(String),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("the storage lock was poisoned by a crash in another request; restart the relay")]
    Poisoned,
}

/// One account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub user_id: String,
    pub display_name: String,
    pub role: Role,
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
}

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
    fn add_user(&self, user: &User) -> Result<(), StorageError>;
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
}
