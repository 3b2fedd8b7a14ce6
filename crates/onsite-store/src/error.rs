//! The store's one error type. Every variant has a stable [`StoreError::code`]; a wrapped
//! [`DomainError`] keeps its own code so the UI can match on the rule that refused the edit.

use onsite_domain::{Code, DomainError};

/// Why a store call failed. A failed write has changed nothing: no document bytes, no index
/// row, no counter.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A domain rule refused the edit, or a document does not have the expected shape.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// Stored document bytes or rows are damaged. They are left exactly as found.
    #[error(
        "document '{doc_id}' is damaged in the device store ({detail}); it was left untouched — sync it again from the relay or contact support"
    )]
    Corrupt { doc_id: String, detail: String },
    /// Bytes received for a document (from sync) are not valid Automerge data.
    #[error(
        "the data received for document '{doc_id}' is not valid Automerge data ({detail}); nothing was written, sync again"
    )]
    BadRemoteData { doc_id: String, detail: String },
    #[error("document '{0}' is not on this device; sync first or create it")]
    NotFound(String),
    #[error("document '{0}' already exists on this device; update it instead of creating it")]
    AlreadyExists(String),
    #[error(
        "document '{doc_id}' has {local_changes} local change(s) not yet synced; sync before removing it"
    )]
    UnsyncedChanges { doc_id: String, local_changes: i64 },
    #[error(
        "attachment is {size} bytes, more than the limit of {limit} bytes; take the photo at a lower resolution"
    )]
    AttachmentTooLarge { size: usize, limit: usize },
    #[error("attachment '{0}' is not on this device; sync attachments first")]
    AttachmentNotFound(String),
    #[error("attachment '{0}' is damaged: its bytes no longer match their SHA-256; fetch it again")]
    AttachmentCorrupt(String),
    #[error("'{0}' is not a lowercase SHA-256 hex digest")]
    BadAttachmentRef(String),
    #[error("the attachment's MIME type is empty; pass e.g. 'image/png'")]
    MimeMissing,
    #[error(
        "this store belongs to device '{stored}', not '{given}'; open it without a device id or use the right file"
    )]
    DeviceMismatch { stored: String, given: String },
    #[error(
        "the device store was written by a newer app (schema {found}, this app knows {supported}); update the app"
    )]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("the device store's index table holds an unexpected value ({0}); call rebuild_indexes")]
    IndexCorrupt(String),
    #[error("the device store failed an integrity check: {0}")]
    Integrity(String),
    #[error("device store database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("device store migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("could not prepare the device store directory: {0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// Stable machine-readable code; the UI and the wire match on this, never on the message.
    pub fn code(&self) -> Code {
        match self {
            StoreError::Domain(e) => e.code(),
            StoreError::Corrupt { .. } => Code::DocumentCorrupt,
            StoreError::BadRemoteData { .. } => Code::SyncBadDocumentData,
            StoreError::NotFound(_) => Code::DocumentNotFound,
            StoreError::AlreadyExists(_) => Code::DocumentAlreadyExists,
            StoreError::UnsyncedChanges { .. } => Code::DocumentUnsyncedChanges,
            StoreError::AttachmentTooLarge { .. } => Code::AttachmentTooLarge,
            StoreError::AttachmentNotFound(_) => Code::AttachmentNotFound,
            StoreError::AttachmentCorrupt(_) => Code::AttachmentCorrupt,
            StoreError::BadAttachmentRef(_) => Code::AttachmentBadRef,
            StoreError::MimeMissing => Code::AttachmentMimeMissing,
            StoreError::DeviceMismatch { .. } => Code::StoreDeviceMismatch,
            StoreError::SchemaTooNew { .. } => Code::StoreSchemaTooNew,
            StoreError::IndexCorrupt(_) => Code::StoreIndexCorrupt,
            StoreError::Integrity(_) => Code::StoreIntegrity,
            StoreError::Sqlite(_) => Code::StoreSqlite,
            StoreError::Migration(_) => Code::StoreMigration,
            StoreError::Io(_) => Code::StoreIo,
        }
    }
}
