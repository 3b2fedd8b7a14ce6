//! [`AppError`]: why a command failed. Crosses to the UI as a [`CommandError`] with a stable code.

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
    #[error("the photo is {0} bytes, more than 8 MiB; take it at a lower resolution")]
    PhotoTooLarge(usize),
    #[error("language '{0}' is not available; use 'zh-CN' or 'en'")]
    UnsupportedLanguage(String),
    #[error("'{0}' is not a valid value for {1}")]
    BadValue(String, &'static str),
    #[error("could not make the QR code: {0}")]
    Qr(String),
    #[error(
        "could not save the record to {0}: {1}; check the folder exists, is writable and the disk has space"
    )]
    Export(String, String),
}

impl AppError {
    /// Stable machine-readable code; the UI translates it and never reads the message.
    pub fn code(&self) -> String {
        match self {
            AppError::Store(e) => e.code().to_owned(),
            AppError::Client(e) => e.code().to_owned(),
            AppError::Signature(e) => e.code().to_owned(),
            AppError::Record(e) => e.code().to_owned(),
            AppError::NotSigned => "record.not_signed".to_owned(),
            AppError::Incomplete(_) => "completion.incomplete".to_owned(),
            AppError::NotSignedIn => "auth.not_signed_in".to_owned(),
            AppError::OrderNotFound(_) => "order.not_found".to_owned(),
            AppError::Empty(_) => "input.empty".to_owned(),
            AppError::BadBase64(_) => "input.bad_base64".to_owned(),
            AppError::NotAnImage => "attachment.not_an_image".to_owned(),
            AppError::PhotoTooLarge(_) => "attachment.too_large".to_owned(),
            AppError::UnsupportedLanguage(_) => "settings.unsupported_language".to_owned(),
            AppError::BadValue(..) => "input.bad_value".to_owned(),
            AppError::Qr(_) => "certificate.qr_failed".to_owned(),
            AppError::Export(..) => "record.export_failed".to_owned(),
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
        }
    }
}
