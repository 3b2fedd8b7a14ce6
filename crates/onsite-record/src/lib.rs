//! The signed service record (一票到底服务记录单) as the customer keeps it: signature image
//! normalisation, the record rendered offline as a standalone HTML page and as a PDF in zh-CN or
//! en (CJK font subset into the file, QR code with the verification URL), and the relay's public
//! verification page.
//!
//! The canonical record, its hash and verification are in [`onsite_domain::record`]; this crate
//! renders what that module hashes and never decides validity itself.

mod error;
mod html;
mod i18n;
mod pdf;
pub mod signature;
mod verify;
mod view;

pub use error::RecordError;
pub use html::{escape as escape_html, render_html};
pub use i18n::Lang;
pub use pdf::{
    NOTO_CJK_BOLD, NOTO_CJK_REGULAR, NOTO_CJK_SC_INDEX, RecordFont, RenderedPdf, render_pdf,
};
pub use signature::{NormalisedSignature, SignatureError, normalise as normalise_signature};
pub use verify::{NotValidReason, VerifyState, VerifySummary, verify_page};
pub use view::{RecordInput, item_result_text, verify_url};
