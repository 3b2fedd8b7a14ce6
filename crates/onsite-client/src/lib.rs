//! The device sync client: sign-in, one sync exchange with the relay ([`sync_once`]), and the
//! background task ([`spawn`]) that syncs on start, after local edits (debounced), when the relay
//! pushes that the feed moved, and with exponential backoff plus jitter while offline.
//!
//! The protocol logic is `onsite-sync`'s (sans-IO); this crate only moves its messages over HTTP
//! and persists the results in the device store. [`Transport`] says how the device may reach its
//! relay: HTTPS (with extra trusted roots for a centre's own CA), plain HTTP only to this machine
//! unless the user allowed it. Unsynced local work is never dropped: a revoked
//! token stops syncing and keeps every edit; a revoked grant removes a document only when it holds
//! no unsynced change.

mod clock;
mod error;
mod http;
mod receive;
mod session;
mod sync;
mod task;
mod transport;

pub use clock::{DEADBAND_MS, DeviceClock, RelayClock};
pub use error::ClientError;
pub use http::{Relay, Traffic};
pub use session::{Session, SignedOut, sign_in, sign_in_with, sign_out, sign_out_locally};
pub use sync::{
    FETCHED_HOLD_MS, SyncReport, fetch_attachment, history_window, set_history_window,
    sync_fetching, sync_once,
};
pub use task::{SyncConfig, SyncHandle, SyncState, SyncStatus, spawn};
pub use transport::{Transport, is_loopback, unencrypted};

/// The device store shared by the app's commands and the sync task.
pub type SharedStore = std::sync::Arc<std::sync::Mutex<onsite_store::Store>>;

/// Lock the shared store; a poisoned lock (a panic while holding it) is still usable because
/// every store write is transactional.
pub(crate) fn lock(store: &SharedStore) -> std::sync::MutexGuard<'_, onsite_store::Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

/// Now in milliseconds (device clock).
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
