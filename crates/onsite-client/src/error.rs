//! The client's error type; every variant has a stable code the UI translates.

use onsite_domain::Code;
use onsite_store::StoreError;

/// Why a client call failed. Local data is never lost by any of these.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The relay could not be reached (no network, relay down, timeout).
    #[error(
        "the relay at {url} cannot be reached ({detail}); your work is kept and will sync when the network returns"
    )]
    Offline { url: String, detail: String },
    /// The relay refused the token or credentials; sign in again. Unsynced work is kept.
    #[error("{message}")]
    Auth { code: Code, message: String },
    /// The relay answered with an error body.
    #[error("the relay refused the request: {message}")]
    Relay {
        status: u16,
        code: Code,
        message: String,
    },
    /// The relay answered something this client cannot read (an incompatible version?).
    #[error(
        "the relay's answer could not be read ({0}); the relay may run an incompatible version"
    )]
    BadResponse(String),
    /// The relay speaks no API version this client knows.
    #[error("the relay speaks API versions {0:?}, this app needs 1; update the app or the relay")]
    IncompatibleRelay(Vec<u32>),
    #[error("'{0}' is not a valid relay URL; use e.g. http://127.0.0.1:8080")]
    BadUrl(String),
    /// Plain `http://` to a relay on another machine, not allowed on this device.
    #[error(
        "{0} is plain HTTP to another machine: passwords and data would cross the network unencrypted; use https://, or allow unencrypted connections explicitly"
    )]
    PlainHttp(String),
    /// The extra trusted root certificates are not usable PEM certificates.
    #[error("the trusted root certificates cannot be used ({0}); give PEM certificates")]
    BadTrustedRoot(String),
    #[error("not signed in; sign in to sync (your work on this device is kept)")]
    NotSignedIn,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sync(#[from] onsite_sync::SyncError),
}

impl ClientError {
    /// Stable machine-readable code.
    pub fn code(&self) -> Code {
        match self {
            ClientError::Offline { .. } => Code::SyncOffline,
            ClientError::Auth { code, .. } | ClientError::Relay { code, .. } => *code,
            ClientError::BadResponse(_) => Code::SyncBadResponse,
            ClientError::IncompatibleRelay(_) => Code::SyncIncompatibleRelay,
            ClientError::BadUrl(_) => Code::SyncBadUrl,
            ClientError::PlainHttp(_) => Code::SyncPlainHttp,
            ClientError::BadTrustedRoot(_) => Code::SyncBadTrustedRoot,
            ClientError::NotSignedIn => Code::AuthNotSignedIn,
            ClientError::Store(e) => e.code(),
            ClientError::Sync(e) => e.code(),
        }
    }

    /// The user must sign in again before sync can continue.
    pub fn needs_sign_in(&self) -> bool {
        matches!(self, ClientError::Auth { .. } | ClientError::NotSignedIn)
    }

    pub fn is_offline(&self) -> bool {
        matches!(self, ClientError::Offline { .. })
    }
}
