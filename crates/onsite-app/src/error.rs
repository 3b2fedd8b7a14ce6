//! [`AppError`]: why a command failed. Crosses to the UI as a [`CommandError`] with a stable code.

use onsite_domain::Code;

use crate::view::{CommandError, MissingView};

/// Why a command failed. Nothing is changed on the device when a command returns one of these.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] onsite_store::StoreError),
    #[error(transparent)]
    Client(#[from] onsite_client::ClientError),
    #[error(transparent)]
    Signature(#[from] onsite_record::SignatureError),
    #[error(transparent)]
    Record(#[from] onsite_record::RecordError),
    #[error("the record is not signed yet, so there is no record document")]
    NotSigned,
    #[error("the record is not complete: {} item(s) missing", .0.len())]
    Incomplete(Vec<MissingView>),
    #[error("not signed in on this device; sign in once with the relay URL, user and password")]
    NotSignedIn,
    #[error("order '{0}' is not on this device; sync first")]
    OrderNotFound(String),
    #[error("{0} must not be empty")]
    Empty(&'static str),
    #[error("the data is not valid base64 ({0})")]
    BadBase64(String),
    #[error("the file is not a JPEG or PNG photo; take the photo again")]
    NotAnImage,
    #[error(
        "the photo is {0} bytes, more than {mib} MiB; take it at a lower resolution",
        mib = crate::MAX_PHOTO_BYTES / (1024 * 1024)
    )]
    PhotoTooLarge(usize),
    #[error("language '{0}' is not available; use 'zh-CN' or 'en'")]
    UnsupportedLanguage(String),
    #[error("{0} change(s) on this device are not synced yet; sync before signing out")]
    UnsyncedWork(u64),
    #[error("the draft is {0} characters long, more than {1}; shorten it")]
    DraftTooLong(usize, usize),
    #[error("the device is handed over to the customer for order '{0}'; unlock it first")]
    HandoverLocked(String),
    #[error("no font with Chinese glyphs found (fontconfig and {0} tried); install fonts-noto-cjk")]
    NoCjkFont(String),
    #[error("could not make the QR code: {0}")]
    Qr(String),
    #[error(
        "could not save the file {0}: {1}; check the folder exists, is writable and the disk has space"
    )]
    Export(String, String),
    // dispatch: parts issue and return
    #[error("the stock ledger of technician '{0}' is not on this device; sync first")]
    NoLedger(String),
    // registry:
    #[error("only dispatchers and admins may do this (registry, import, stock, dispatch)")]
    DispatchersOnly,
    #[error("household '{0}' is not on this device; sync first")]
    HouseholdNotFound(String),
    #[error("a history window of {0} days is longer than ten years; use 0 for the whole history")]
    WindowTooLong(u32),
    #[error("'{0}' is not a document id")]
    BadDocId(String),
    #[error(transparent)]
    Import(#[from] crate::app::ImportError),
    // console:
    #[error("the schedule window must end after it starts")]
    BadWindow,
    #[error("technician '{0}' is not on this device; sync first")]
    UnknownTechnician(String),
    // profiles:
    #[error("the profile of technician '{0}' is not on this device; sync first")]
    ProfileNotFound(String),
    // stats:
    #[error(transparent)]
    Bonus(onsite_domain::bonus::BonusError),
    #[error("only an admin may change the bonus formula")]
    AdminsOnly,
    #[error("month {0} is no month; use 1 to 12")]
    BadMonth(u32),
    // followups:
    #[error("only an admin may change the service settings")]
    ServiceAdminsOnly,
}

impl AppError {
    /// Stable machine-readable code; the UI translates it and never reads the message.
    pub fn code(&self) -> Code {
        match self {
            AppError::Store(e) => e.code(),
            AppError::Client(e) => e.code(),
            AppError::Signature(e) => e.code(),
            AppError::Record(e) => e.code(),
            AppError::NotSigned => Code::RecordNotSigned,
            AppError::Incomplete(_) => Code::CompletionIncomplete,
            AppError::NotSignedIn => Code::AuthNotSignedIn,
            AppError::OrderNotFound(_) => Code::OrderNotFound,
            AppError::Empty(_) => Code::InputEmpty,
            AppError::BadBase64(_) => Code::InputBadBase64,
            AppError::NotAnImage => Code::AttachmentNotAnImage,
            AppError::PhotoTooLarge(_) => Code::AttachmentTooLarge,
            AppError::UnsupportedLanguage(_) => Code::SettingsUnsupportedLanguage,
            AppError::Qr(_) => Code::CertificateQrFailed,
            AppError::Export(..) => Code::RecordExportFailed,
            AppError::UnsyncedWork(_) => Code::AuthUnsyncedWork,
            AppError::DraftTooLong(..) => Code::DraftTooLong,
            AppError::HandoverLocked(_) => Code::HandoverLocked,
            AppError::NoCjkFont(_) => Code::RecordNoCjkFont,
            // dispatch: parts issue and return
            AppError::NoLedger(_) => Code::DocumentNotFound,
            // registry:
            AppError::DispatchersOnly => Code::ConsoleDispatcherOnly,
            AppError::HouseholdNotFound(_) => Code::RegistryHouseholdNotFound,
            AppError::WindowTooLong(_) => Code::HistoryWindowTooLong,
            AppError::BadDocId(_) => Code::DocumentBadId,
            AppError::Import(e) => e.code(),
            // console:
            AppError::BadWindow => Code::OrderBadWindow,
            AppError::UnknownTechnician(_) => Code::OrderUnknownTechnician,
            // profiles:
            AppError::ProfileNotFound(_) => Code::ProfileNotFound,
            // stats:
            AppError::Bonus(e) => e.code(),
            AppError::AdminsOnly => Code::BonusAdminsOnly,
            AppError::BadMonth(_) => Code::StatsBadMonth,
            // followups:
            AppError::ServiceAdminsOnly => Code::ServiceAdminsOnly,
        }
    }
}

impl AppError {
    /// The form field a refused registry entry concerns (`onsite_domain::DomainError::field`).
    pub fn field(&self) -> Option<onsite_domain::household::FieldRef> {
        match self {
            AppError::Store(onsite_store::StoreError::Domain(e)) => e.field(),
            _ => None,
        }
    }
}

impl From<onsite_domain::DomainError> for AppError {
    fn from(e: onsite_domain::DomainError) -> Self {
        AppError::Store(e.into())
    }
}

impl From<AppError> for CommandError {
    fn from(e: AppError) -> Self {
        let missing = match &e {
            AppError::Incomplete(m) => m.clone(),
            _ => Vec::new(),
        };
        CommandError {
            code: e.code(),
            message: e.to_string(),
            missing,
            field: e.field(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_photo_limit_in_the_message_is_the_real_limit() {
        let mib = crate::MAX_PHOTO_BYTES / (1024 * 1024);
        assert_eq!(
            mib * 1024 * 1024,
            crate::MAX_PHOTO_BYTES,
            "the limit is a whole number of MiB, so the message states it exactly"
        );
        let e = AppError::PhotoTooLarge(crate::MAX_PHOTO_BYTES + 1);
        assert!(
            e.to_string().contains(&format!("more than {mib} MiB")),
            "the message names the limit the check uses: {e}"
        );
        assert_eq!(e.code(), Code::AttachmentTooLarge);
    }
}
