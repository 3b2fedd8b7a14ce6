//! The one error type of the domain rules. Every variant has a stable [`DomainError::code`] that
//! crosses to the UI and the wire; the message says what to do about it.

use crate::Code;
use crate::progress::ProgressKind;

/// A refused edit or an unreadable document. Nothing is changed when one of these is returned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    #[error("cannot record '{attempted:?}' now: the visit is at '{current:?}'; {hint}")]
    InvalidTransition {
        current: Option<ProgressKind>,
        attempted: ProgressKind,
        hint: &'static str,
    },
    #[error("'{kind:?}' is recorded by the sign and reopen actions, not as a progress step")]
    ReservedStep { kind: ProgressKind },
    #[error("'{kind:?}' was already recorded for this visit; progress steps are recorded once")]
    AlreadyRecorded { kind: ProgressKind },
    #[error(
        "the device time {at_ms} is earlier than the previous step at {previous_ms}; check the device clock"
    )]
    TimeWentBackwards { at_ms: i64, previous_ms: i64 },
    #[error(
        "the order is cancelled by the dispatcher; progress cannot be recorded — call dispatch"
    )]
    OrderCancelled,
    #[error("the order is on hold by the dispatcher; wait until dispatch releases it")]
    OrderOnHold,
    #[error(
        "the record was signed and is frozen; reopen it (the earlier signature is kept) before changing it"
    )]
    RecordFrozen,
    #[error("'{field}' holds {chars} characters, more than the {max} a field may hold; shorten it")]
    TooLong {
        field: String,
        chars: usize,
        max: usize,
    },
    #[error("'{field}' holds {count} entries, more than the {max} allowed")]
    TooManyEntries {
        field: String,
        count: usize,
        max: usize,
    },
    #[error(
        "progress step '{0}' was changed or removed; steps are only ever added — record a new step instead"
    )]
    ProgressRewritten(String),
    #[error(
        "the signature does not match the signed record (sections: {}); sign again on the device",
        .0.join(", ")
    )]
    SignatureMismatch(Vec<String>),
    #[error("the record is not signed, so there is nothing to reopen")]
    NotSigned,
    #[error(
        "checklist template '{template_id}' version {version} is not known on this device; sync reference data first"
    )]
    UnknownTemplate { template_id: String, version: u32 },
    #[error("the visit has no checklist '{template_id}'")]
    ChecklistNotInVisit { template_id: String },
    #[error("checklist '{template_id}' has no item '{item_id}'")]
    UnknownItem {
        template_id: String,
        item_id: String,
    },
    #[error("item '{item_id}' does not take this kind of answer: {expected}")]
    WrongAnswerKind {
        item_id: String,
        expected: &'static str,
    },
    #[error("item '{item_id}' takes no photo")]
    PhotoNotAllowed { item_id: String },
    #[error("item '{item_id}' has no answer yet; answer it before attaching a photo")]
    NotAnswered { item_id: String },
    #[error("reading for '{item_id}' must be in {expected}, not '{given}'")]
    WrongUnit {
        item_id: String,
        expected: String,
        given: String,
    },
    #[error("reading for '{item_id}' is not a finite number")]
    ReadingNotANumber { item_id: String },
    #[error(
        "reading {value} {unit} for '{item_id}' is outside {min}–{max}; add a note saying why before saving it"
    )]
    ReadingOutOfRangeNeedsNote {
        item_id: String,
        value: f64,
        unit: String,
        min: f64,
        max: f64,
    },
    #[error("'not applicable' for '{item_id}' needs a reason")]
    ReasonRequired { item_id: String },
    #[error("photo reference '{0}' is not a SHA-256 hex digest")]
    BadPhotoRef(String),
    #[error("part '{0}' is not in the parts catalogue; sync reference data or pick another part")]
    UnknownPart(String),
    #[error("fee '{0}' is not in the published fee schedule")]
    UnknownFee(String),
    #[error("quantity must be at least 1 (got {0})")]
    BadQuantity(i64),
    #[error("an entry with id '{0}' already exists")]
    DuplicateId(String),
    #[error("no entry with id '{0}'")]
    NoSuchEntry(String),
    #[error("rating must be 1 to 5 stars (got {0})")]
    BadRating(i64),
    #[error("the signer's name is empty; ask the customer to type their name")]
    SignerNameMissing,
    #[error("signature image reference is not a SHA-256 hex digest")]
    BadSignatureRef,
    #[error("the record is not complete: {}", crate::completion::describe(.0))]
    Incomplete(Vec<crate::completion::Missing>),
    #[error("{what} is empty")]
    Empty { what: &'static str },
    #[error("the order is not assigned to technician '{0}'")]
    NotAssignee(String),
    #[error(
        "technician '{technician_id}' has no valid certificate or qualification for this service type; renew it or pick another technician"
    )]
    NotQualified { technician_id: String },
    #[error("the order is already assigned to '{0}'")]
    AlreadyAssigned(String),
    #[error(
        "document does not match the expected shape ({0}); it may be damaged or from a newer app version"
    )]
    Hydrate(String),
    #[error("could not write the document: {0}")]
    Reconcile(String),
    #[error("document bytes are not a valid Automerge document: {0}")]
    CorruptDocument(String),
    #[error(
        "document schema version {found} is newer than this app supports ({supported}); update the app"
    )]
    SchemaTooNew { found: u32, supported: u32 },
    #[error("'{0}' is not a valid document id")]
    BadDocId(String),
    // dispatch: order numbers and parts issue/return
    #[error("'{text}' is not an order number: {why}")]
    BadOrderNo { text: String, why: &'static str },
    #[error(
        "device prefix '{0}' must be 2 to 6 upper-case letters or digits; sign in again to get one"
    )]
    BadOrderPrefix(String),
    #[error(
        "this device (prefix '{prefix}') has used all 9999 order numbers for today; create the order on another device"
    )]
    OrderNoExhausted { prefix: String },
    #[error(
        "the technician holds {held} of part '{part_no}', fewer than the {asked} asked for; check the count"
    )]
    MoreThanHeld {
        part_no: String,
        held: i64,
        asked: i64,
    },
    #[error(
        "no part line of order '{order_id}' has the faulty serial '{serial}'; check the serial on the part"
    )]
    FaultySerialUnmatched { order_id: String, serial: String },
    #[error("the faulty part '{serial}' of order '{order_id}' was already returned")]
    FaultyAlreadyReturned { order_id: String, serial: String },
    // registry:
    #[error(
        "'{0}' is not a Chinese mobile number (11 digits starting with 1) or a landline with its area code (e.g. 021-12345678)"
    )]
    BadPhone(String),
    #[error("the warranty of appliance '{0}' ends before its purchase date")]
    WarrantyBeforePurchase(String),
    #[error(
        "{0} row(s) of the file have errors; nothing was imported — fix them and preview again"
    )]
    ImportHasErrors(usize),
    // followups: follow-up calls, complaints and maintenance reminders
    #[error("the service settings (ref:service) are not on this device; sync reference data first")]
    ServiceSettingsMissing,
    #[error("the {0} must be 1 hour to 90 days")]
    ServiceBadHours(&'static str),
    #[error("the maintenance interval of '{0}' must name a category and be 1 to 120 months")]
    ServiceBadInterval(String),
    #[error("the maintenance intervals name category '{0}' twice")]
    ServiceDuplicateCategory(String),
    #[error("the maintenance interval of '{0}' needs a task (what the order is about)")]
    ServiceTaskMissing(String),
    #[error("the service settings' version must be 1 or more")]
    ServiceBadVersion,
    #[error(
        "order '{order_id}' has no signed visit by '{technician_id}', so no follow-up call to record"
    )]
    FollowUpNotFound {
        order_id: String,
        technician_id: String,
    },
    #[error("the follow-up of order '{0}' was already answered")]
    FollowUpAnswered(String),
    #[error("a complaint needs the customer's words; write down what they said")]
    ComplaintWordsRequired,
    #[error("complaint '{0}' is not on this order")]
    ComplaintNotFound(String),
    #[error("complaint '{0}' was already resolved")]
    ComplaintResolved(String),
    #[error("resolving a complaint needs a note saying what was done")]
    ComplaintNoteRequired,
    #[error("reminder '{0}' is not due (ordered, dismissed or serviced since); refresh the list")]
    ReminderNotDue(String),
    #[error("dismissing a reminder needs a reason")]
    ReminderReasonRequired,
    /// A refused registry entry, with the form field it concerns (its code is the cause's).
    #[error("{source}")]
    InField {
        at: crate::household::FieldRef,
        source: Box<DomainError>,
    },
    // profiles:
    #[error(
        "your role may not {action:?} a technician profile: admins edit and reinstate, dispatchers and admins withdraw"
    )]
    ProfileNotAllowed {
        action: crate::profile::ProfileAction,
    },
    #[error("a technician needs at least one qualification (repair, installation or maintenance)")]
    NoQualifications,
    #[error(
        "'{0}' is not a certificate number: it must be 1 to 40 characters without spaces or slashes"
    )]
    BadCertificateNo(String),
    #[error(
        "certificate number '{certificate_id}' already belongs to technician '{technician_id}'"
    )]
    DuplicateCertificate {
        certificate_id: String,
        technician_id: String,
    },
    #[error("the star level must be 1 to 5 (got {0})")]
    BadStars(u32),
    #[error("valid-from '{0}' is {1}; write the date as YYYY-MM-DD")]
    BadValidFrom(String, &'static str),
    #[error("valid-until '{0}' is {1}; write the date as YYYY-MM-DD")]
    BadValidUntil(String, &'static str),
    #[error("say why the certificate is withdrawn or reinstated")]
    ProfileReasonRequired,
    #[error("certificate '{0}' is already withdrawn")]
    AlreadyWithdrawn(String),
    #[error("certificate '{0}' is not withdrawn, so there is nothing to reinstate")]
    NotWithdrawn(String),
    // conflicts: the review queue's decisions
    #[error("the conflict '{0}' is not (or no longer) found on the order; reload the review queue")]
    ConflictNotFound(String),
    #[error("the conflict '{0}' was already resolved")]
    ConflictResolved(String),
    #[error("'{action:?}' does not resolve a '{kind:?}' conflict; pick one of the actions offered")]
    ActionNotAllowed {
        kind: crate::status::ConflictKind,
        action: crate::resolve::ResolutionAction,
    },
    #[error("technician '{0}' has no profile on this device; sync first")]
    UnknownTechnician(String),
    // stats: a `ref:bonus` its rules refuse (checked by the relay on every change).
    #[error(transparent)]
    Bonus(#[from] crate::bonus::BonusError),
}

impl DomainError {
    /// The form field a refused registry entry concerns, when the rule knows it.
    pub fn field(&self) -> Option<crate::household::FieldRef> {
        match self {
            DomainError::InField { at, .. } => Some(*at),
            _ => None,
        }
    }

    /// Stable machine-readable code. The UI and the wire match on this, never on the message.
    pub fn code(&self) -> Code {
        use DomainError::*;
        match self {
            InvalidTransition { .. } => Code::ProgressInvalidTransition,
            ReservedStep { .. } => Code::ProgressReservedStep,
            AlreadyRecorded { .. } => Code::ProgressAlreadyRecorded,
            TimeWentBackwards { .. } => Code::ProgressTimeWentBackwards,
            OrderCancelled => Code::OrderCancelled,
            OrderOnHold => Code::OrderOnHold,
            RecordFrozen => Code::RecordFrozen,
            TooLong { .. } => Code::InputTooLong,
            TooManyEntries { .. } => Code::InputTooManyEntries,
            ProgressRewritten(_) => Code::ProgressRewritten,
            SignatureMismatch(_) => Code::RecordSignatureMismatch,
            NotSigned => Code::RecordNotSigned,
            UnknownTemplate { .. } => Code::ChecklistUnknownTemplate,
            ChecklistNotInVisit { .. } => Code::ChecklistNotInVisit,
            UnknownItem { .. } => Code::ChecklistUnknownItem,
            WrongAnswerKind { .. } => Code::ChecklistWrongAnswerKind,
            PhotoNotAllowed { .. } => Code::ChecklistPhotoNotAllowed,
            NotAnswered { .. } => Code::ChecklistNotAnswered,
            WrongUnit { .. } => Code::ChecklistWrongUnit,
            ReadingNotANumber { .. } => Code::ChecklistReadingNotANumber,
            ReadingOutOfRangeNeedsNote { .. } => Code::ChecklistOutOfRangeNeedsNote,
            ReasonRequired { .. } => Code::ChecklistReasonRequired,
            BadPhotoRef(_) => Code::AttachmentBadRef,
            UnknownPart(_) => Code::PartsUnknownPart,
            UnknownFee(_) => Code::FeesUnknownFee,
            BadQuantity(_) => Code::InputBadQuantity,
            DuplicateId(_) => Code::InputDuplicateId,
            NoSuchEntry(_) => Code::InputNoSuchEntry,
            BadRating(_) => Code::RatingOutOfRange,
            SignerNameMissing => Code::SignatureNameMissing,
            BadSignatureRef => Code::SignatureBadRef,
            Incomplete(_) => Code::CompletionIncomplete,
            Empty { .. } => Code::InputEmpty,
            NotAssignee(_) => Code::OrderNotAssignee,
            AlreadyAssigned(_) => Code::OrderAlreadyAssigned,
            NotQualified { .. } => Code::OrderNotQualified,
            Hydrate(_) => Code::DocumentUnexpectedShape,
            Reconcile(_) => Code::DocumentWriteFailed,
            CorruptDocument(_) => Code::DocumentCorrupt,
            SchemaTooNew { .. } => Code::DocumentSchemaTooNew,
            BadDocId(_) => Code::DocumentBadId,
            // dispatch: order numbers and parts issue/return
            BadOrderNo { .. } => Code::OrderNoMalformed,
            BadOrderPrefix(_) => Code::OrderNoBadPrefix,
            OrderNoExhausted { .. } => Code::OrderNoSequenceExhausted,
            MoreThanHeld { .. } => Code::PartsMoreThanHeld,
            FaultySerialUnmatched { .. } => Code::PartsFaultySerialUnmatched,
            FaultyAlreadyReturned { .. } => Code::PartsFaultyAlreadyReturned,
            // registry:
            BadPhone(_) => Code::RegistryBadPhone,
            WarrantyBeforePurchase(_) => Code::RegistryWarrantyBeforePurchase,
            ImportHasErrors(_) => Code::ImportHasErrors,
            InField { source, .. } => source.code(),
            // profiles:
            ProfileNotAllowed { .. } => Code::ProfileNotAllowed,
            NoQualifications => Code::ProfileNoQualifications,
            BadCertificateNo(_) => Code::ProfileBadCertificateNo,
            DuplicateCertificate { .. } => Code::ProfileDuplicateCertificate,
            BadStars(_) => Code::ProfileBadStars,
            BadValidFrom(..) => Code::ProfileBadValidFrom,
            BadValidUntil(..) => Code::ProfileBadValidUntil,
            ProfileReasonRequired => Code::ProfileReasonRequired,
            AlreadyWithdrawn(_) => Code::ProfileAlreadyWithdrawn,
            NotWithdrawn(_) => Code::ProfileNotWithdrawn,
            // conflicts:
            ConflictNotFound(_) => Code::ConflictNotFound,
            ConflictResolved(_) => Code::ConflictAlreadyResolved,
            ActionNotAllowed { .. } => Code::ConflictActionNotAllowed,
            UnknownTechnician(_) => Code::OrderUnknownTechnician,
            // stats:
            Bonus(e) => e.code(),
            // followups:
            ServiceSettingsMissing => Code::ServiceSettingsMissing,
            ServiceBadHours(_) => Code::ServiceBadHours,
            ServiceBadInterval(_) => Code::ServiceBadInterval,
            ServiceDuplicateCategory(_) => Code::ServiceDuplicateCategory,
            ServiceTaskMissing(_) => Code::ServiceTaskMissing,
            ServiceBadVersion => Code::ServiceBadVersion,
            FollowUpNotFound { .. } => Code::FollowupNotFound,
            FollowUpAnswered(_) => Code::FollowupAlreadyAnswered,
            ComplaintWordsRequired => Code::FollowupWordsRequired,
            ComplaintNotFound(_) => Code::ComplaintNotFound,
            ComplaintResolved(_) => Code::ComplaintAlreadyResolved,
            ComplaintNoteRequired => Code::ComplaintNoteRequired,
            ReminderNotDue(_) => Code::ReminderNotDue,
            ReminderReasonRequired => Code::ReminderReasonRequired,
        }
    }
}

pub(crate) fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}
