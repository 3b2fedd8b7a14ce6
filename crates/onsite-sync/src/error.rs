//! Errors of the sync logic, each with a stable code shared with the wire.

use onsite_domain::{Code, DocId};

/// A refused sync message or request. The request it belongs to changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    #[error(
        "the sync message for '{doc}' is not a valid Automerge sync message ({reason}); the device must regenerate it"
    )]
    Malformed { doc: String, reason: String },
    #[error(
        "the stored sync state for '{doc}' is damaged ({reason}); delete it to resync the document"
    )]
    BadState { doc: String, reason: String },
    #[error("'{0}' appears more than once in the request; send one message per document")]
    DuplicateDoc(DocId),
    #[error(
        "the cursor {cursor} is ahead of this relay's feed ({head}); the device synced with another relay or the relay's database was replaced — reset the device's cursor to 0"
    )]
    CursorAhead { cursor: u64, head: u64 },
    #[error(
        "the snapshot position '{0}' was not given by this relay; start the first sync again without it"
    )]
    BadSnapshot(String),
    #[error(
        "the request's documents kept changing while the relay handled it; nothing was stored — send it again"
    )]
    Contended,
}

impl SyncError {
    /// Stable machine-readable code.
    pub fn code(&self) -> Code {
        match self {
            SyncError::Malformed { .. } => Code::SyncMalformedMessage,
            SyncError::BadState { .. } => Code::SyncBadState,
            SyncError::DuplicateDoc(_) => Code::SyncDuplicateDocument,
            SyncError::CursorAhead { .. } => Code::SyncCursorAhead,
            SyncError::BadSnapshot(_) => Code::SyncBadSnapshot,
            SyncError::Contended => Code::RelayBusy,
        }
    }
}
