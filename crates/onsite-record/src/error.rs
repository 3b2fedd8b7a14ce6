//! Why a record could not be rendered.

use std::path::PathBuf;

use onsite_domain::Code;

/// A record rendering failure. Signature-pad problems are [`crate::SignatureError`].
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the visit is not signed; a service record exists only after the customer signs")]
    Unsigned,
    #[error(
        "the signature image given hashes to {given}, but the record was signed with {signed}; \
         pass the stored signature attachment"
    )]
    SignatureMismatch { signed: String, given: String },
    #[error("the stored signature image cannot be read ({0}); fetch the attachment again")]
    SignatureUnreadable(String),
    #[error(
        "no CJK font at {path}; install the Debian package fonts-noto-cjk or pass a font with \
         RecordFont::from_bytes"
    )]
    FontMissing { path: PathBuf },
    #[error("the font cannot be used ({0}); use an OpenType/TrueType font with Chinese glyphs")]
    FontUnreadable(String),
    #[error("the verification QR code cannot be made ({0}); shorten the relay URL")]
    Qr(String),
}

impl RecordError {
    /// Stable code for the UI and the wire.
    pub fn code(&self) -> Code {
        match self {
            RecordError::Unsigned => Code::RecordNotSigned,
            RecordError::SignatureMismatch { .. } => Code::RecordSignatureMismatch,
            RecordError::SignatureUnreadable(_) => Code::RecordSignatureUnreadable,
            RecordError::FontMissing { .. } => Code::RecordFontMissing,
            RecordError::FontUnreadable(_) => Code::RecordFontUnreadable,
            RecordError::Qr(_) => Code::RecordQr,
        }
    }
}
