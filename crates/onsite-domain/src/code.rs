//! [`Code`]: every stable error code of Onsite, in one enum. Every error type's `code()` (domain,
//! store, sync, client, record, signature, app, relay) returns one, the wire's error bodies and
//! rejections carry one, and the UI's message tables are keyed by it (`Record<Code, string>` over
//! the ts-rs declaration in `ui/src/lib/generated/Code.ts`), so a code without a message, or a
//! message for a code that does not exist, fails the UI's typecheck.
//!
//! Each code travels as its dotted text (`record.frozen`); match on the variant, never on the
//! human message next to it. Codes are only ever added: a device reads a code it does not know
//! (sent by a newer relay) as [`Code::Unknown`] and shows a generic message, while the English
//! message that came with it stays in the logs. [`std::str::FromStr`] is strict instead: it
//! refuses text that names no code, so a typo in a test or a tool is caught.

use serde::{Deserialize, Deserializer, Serialize};
use ts_rs::TS;

macro_rules! codes {
    ($( $(#[doc = $doc:literal])* $variant:ident = $text:literal, )*) => {
        /// A stable, machine-readable error code, sent as its dotted text (`record.frozen`); the
        /// module `onsite_domain::code` says how codes evolve.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, TS,
        )]
        pub enum Code {
            $( $(#[doc = $doc])* #[serde(rename = $text)] $variant, )*
            /// A code this build does not know, e.g. one added by a newer relay: what any other
            /// text deserialises to. Never sent by this build; shown as a generic message.
            #[serde(rename = "unknown")]
            Unknown,
        }

        impl Code {
            /// Every code, [`Code::Unknown`] last.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)* Code::Unknown];

            /// The dotted text this code travels as, e.g. `record.frozen`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                    Code::Unknown => "unknown",
                }
            }
        }
    };
}

codes! {
    // --- progress steps (domain)
    /// The step is not possible from the visit's current step.
    ProgressInvalidTransition = "progress.invalid_transition",
    /// The step was already recorded for this visit.
    ProgressAlreadyRecorded = "progress.already_recorded",
    /// The device time is earlier than the previous step's.
    ProgressTimeWentBackwards = "progress.time_went_backwards",
    /// `signed` and `reopened` are recorded by the sign and reopen actions, not as plain steps.
    ProgressReservedStep = "progress.reserved_step",
    /// A recorded progress step was changed or removed (steps are append-only).
    ProgressRewritten = "progress.rewritten",
    // --- order (domain, app)
    /// The dispatcher cancelled the order.
    OrderCancelled = "order.cancelled",
    /// The dispatcher put the order on hold.
    OrderOnHold = "order.on_hold",
    /// The order is not assigned to this technician.
    OrderNotAssignee = "order.not_assignee",
    /// The order is already assigned to someone.
    OrderAlreadyAssigned = "order.already_assigned",
    /// The technician has no valid certificate for this service type.
    OrderNotQualified = "order.not_qualified",
    /// The order is not on this device.
    OrderNotFound = "order.not_found",
    // --- the signed record (domain, record, app)
    /// The record is signed; nothing in it changes until it is reopened.
    RecordFrozen = "record.frozen",
    /// The record is not signed: there is nothing to reopen, and no record document yet.
    RecordNotSigned = "record.not_signed",
    /// The signature image given is not the one the record was signed with.
    RecordSignatureMismatch = "record.signature_mismatch",
    /// The stored signature image cannot be read.
    RecordSignatureUnreadable = "record.signature_unreadable",
    /// No CJK font for the PDF.
    RecordFontMissing = "record.font_missing",
    /// The font for the PDF cannot be used.
    RecordFontUnreadable = "record.font_unreadable",
    /// The record's verification QR code cannot be made.
    RecordQr = "record.qr",
    /// The record PDF could not be saved.
    RecordExportFailed = "record.export_failed",
    /// No installed font has Chinese glyphs for the record PDF (fontconfig and the fallback path).
    RecordNoCjkFont = "record.no_cjk_font",
    /// The device is handed over to the customer for one order; other screens are locked.
    HandoverLocked = "handover.locked",
    /// A draft is longer than a field may be.
    DraftTooLong = "draft.too_long",
    // --- checklist answers (domain)
    /// The checklist template is not on this device.
    ChecklistUnknownTemplate = "checklist.unknown_template",
    /// The visit has no such checklist.
    ChecklistNotInVisit = "checklist.not_in_visit",
    /// The checklist has no such item.
    ChecklistUnknownItem = "checklist.unknown_item",
    /// The item does not take this kind of answer.
    ChecklistWrongAnswerKind = "checklist.wrong_answer_kind",
    /// The item takes no photo.
    ChecklistPhotoNotAllowed = "checklist.photo_not_allowed",
    /// A photo can only be attached to an answered item.
    ChecklistNotAnswered = "checklist.not_answered",
    /// The reading is in another unit than the item's.
    ChecklistWrongUnit = "checklist.wrong_unit",
    /// The reading is not a (finite) number.
    ChecklistReadingNotANumber = "checklist.reading_not_a_number",
    /// The reading is out of range and carries no note.
    ChecklistOutOfRangeNeedsNote = "checklist.out_of_range_needs_note",
    /// "Not applicable" needs a reason.
    ChecklistReasonRequired = "checklist.reason_required",
    // --- parts, fees, rating, input (domain, app)
    /// The part is not in the parts catalogue.
    PartsUnknownPart = "parts.unknown_part",
    /// The fee is not in the published fee schedule.
    FeesUnknownFee = "fees.unknown_fee",
    /// A quantity below 1.
    InputBadQuantity = "input.bad_quantity",
    /// An entry with this id already exists.
    InputDuplicateId = "input.duplicate_id",
    /// No entry with this id.
    InputNoSuchEntry = "input.no_such_entry",
    /// A required field is empty.
    InputEmpty = "input.empty",
    /// Data that should be base64 is not.
    InputBadBase64 = "input.bad_base64",
    /// A text longer than any field may hold.
    InputTooLong = "input.too_long",
    /// A list or map with more entries than a document may hold.
    InputTooManyEntries = "input.too_many_entries",
    /// Stars outside 1–5.
    RatingOutOfRange = "rating.out_of_range",
    /// The record is not complete; the error lists what is missing.
    CompletionIncomplete = "completion.incomplete",
    /// The language is not available.
    SettingsUnsupportedLanguage = "settings.unsupported_language",
    /// The certificate's QR code cannot be made.
    CertificateQrFailed = "certificate.qr_failed",
    // --- signature (domain, record)
    /// The signer's name is empty.
    SignatureNameMissing = "signature.name_missing",
    /// The signature image reference is not a SHA-256 digest.
    SignatureBadRef = "signature.bad_ref",
    /// The signature pad is blank.
    SignatureEmpty = "signature.empty",
    /// The signature is not a PNG image.
    SignatureNotPng = "signature.not_png",
    /// The signature PNG cannot be decoded.
    SignatureCorrupt = "signature.corrupt",
    /// The signature PNG has too many bytes.
    SignatureTooLarge = "signature.too_large",
    /// The signature image has too many pixels on a side.
    SignatureTooManyPixels = "signature.too_many_pixels",
    // --- attachments (domain, store, app, relay)
    /// 400: not a lowercase SHA-256 hex digest.
    AttachmentBadRef = "attachment.bad_ref",
    /// 400: the attachment's bytes do not hash to the SHA-256 in its URL.
    AttachmentHashMismatch = "attachment.hash_mismatch",
    /// 404: no such attachment (for this user, or on this device).
    AttachmentNotFound = "attachment.not_found",
    /// 415: not one of the accepted attachment types.
    AttachmentUnsupportedType = "attachment.unsupported_type",
    /// The attachment is larger than the limit.
    AttachmentTooLarge = "attachment.too_large",
    /// The stored attachment no longer matches its SHA-256.
    AttachmentCorrupt = "attachment.corrupt",
    /// The attachment's MIME type is empty.
    AttachmentMimeMissing = "attachment.mime_missing",
    /// The file is not a JPEG or PNG photo.
    AttachmentNotAnImage = "attachment.not_an_image",
    // --- documents (domain, store, relay)
    /// Per document: missing, or not readable by this user.
    DocumentNotFound = "document.not_found",
    /// The document already exists on this device.
    DocumentAlreadyExists = "document.already_exists",
    /// The document has local changes not yet synced.
    DocumentUnsyncedChanges = "document.unsynced_changes",
    /// Per document: the document does not have the expected shape.
    DocumentUnexpectedShape = "document.unexpected_shape",
    /// The document could not be written.
    DocumentWriteFailed = "document.write_failed",
    /// The stored document is damaged.
    DocumentCorrupt = "document.corrupt",
    /// The document's schema is newer than this app.
    DocumentSchemaTooNew = "document.schema_too_new",
    /// Not a valid document id.
    DocumentBadId = "document.bad_id",
    /// Per document: storing the changes would exceed the relay's `max_doc_bytes`.
    DocumentTooLarge = "document.too_large",
    /// Per document: the user may read but not write it; nothing of the changes was stored.
    AccessReadOnly = "access.read_only",
    // --- device store
    /// The store file belongs to another device.
    StoreDeviceMismatch = "store.device_mismatch",
    /// The store was written by a newer app.
    StoreSchemaTooNew = "store.schema_too_new",
    /// An index table holds an unexpected value.
    StoreIndexCorrupt = "store.index_corrupt",
    /// The store failed an integrity check.
    StoreIntegrity = "store.integrity",
    /// SQLite failed.
    StoreSqlite = "store.sqlite",
    /// A store migration failed.
    StoreMigration = "store.migration",
    /// The store's directory could not be prepared.
    StoreIo = "store.io",
    // --- sync (sync, client, relay)
    /// 400: a sync message is not a valid Automerge sync message or carries damaged changes.
    SyncMalformedMessage = "sync.malformed_message",
    /// The stored sync state of a document is damaged.
    SyncBadState = "sync.bad_state",
    /// 400: the same document appears twice in one request.
    SyncDuplicateDocument = "sync.duplicate_document",
    /// 409: the cursor is ahead of the relay's feed (another relay, or a replaced database).
    SyncCursorAhead = "sync.cursor_ahead",
    /// 400: a windowed first sync sent a snapshot position the relay never gave, or one taken
    /// past its feed; the device starts its first sync again.
    SyncBadSnapshot = "sync.bad_snapshot",
    /// Data received for a document is not valid Automerge data.
    SyncBadDocumentData = "sync.bad_document_data",
    /// The relay cannot be reached.
    SyncOffline = "sync.offline",
    /// The relay's answer cannot be read.
    SyncBadResponse = "sync.bad_response",
    /// The relay speaks no API version this app knows.
    SyncIncompatibleRelay = "sync.incompatible_relay",
    /// Not a valid relay URL.
    SyncBadUrl = "sync.bad_url",
    /// Plain `http://` to a relay on another machine, not allowed on this device.
    SyncPlainHttp = "sync.plain_http",
    /// The extra trusted root certificates given to the device are not PEM certificates.
    SyncBadTrustedRoot = "sync.bad_trusted_root",
    // --- authentication (client, relay)
    /// Not signed in on this device.
    AuthNotSignedIn = "auth.not_signed_in",
    /// Sign-out refused: changes on this device are not synced yet.
    AuthUnsyncedWork = "auth.unsynced_work",
    /// Another user has unsynced work on this device.
    AuthOtherUserHasUnsyncedWork = "auth.other_user_has_unsynced_work",
    /// 401: no `Authorization: Bearer` header.
    AuthMissingToken = "auth.missing_token",
    /// 401: the token is unknown (forged or mistyped).
    AuthInvalidToken = "auth.invalid_token",
    /// 401: the token's expiry has passed.
    AuthTokenExpired = "auth.token_expired",
    /// 401: the token was revoked (signed out, or by an admin).
    AuthTokenRevoked = "auth.token_revoked",
    /// 401: wrong user id or password.
    AuthBadCredentials = "auth.bad_credentials",
    /// 403: the account is disabled.
    AuthAccountDisabled = "auth.account_disabled",
    /// 429: too many failed sign-ins for this account or from this address; wait (the answer's
    /// `Retry-After`) or ask an administrator to lift the lock.
    AuthThrottled = "auth.throttled",
    // --- requests to the relay
    /// 400: the body is not valid JSON of the expected shape.
    RequestMalformed = "request.malformed",
    /// 415: the body is not `application/json`.
    RequestUnsupportedContentType = "request.unsupported_content_type",
    /// 413: the body (after decompression) is larger than `max_body_bytes`.
    RequestTooLarge = "request.too_large",
    /// 400: the compressed body could not be decompressed.
    RequestBadEncoding = "request.bad_encoding",
    /// 404: no such route.
    RouteNotFound = "route.not_found",
    // --- the relay itself
    /// 500: the relay failed; nothing of the request was acknowledged.
    RelayInternal = "relay.internal",
    /// 503: the relay's storage is unavailable.
    RelayUnavailable = "relay.unavailable",
    /// 503: the relay is at its limit of concurrent work (e.g. password checks); retry shortly.
    RelayBusy = "relay.busy",
    /// 503: the request took longer than the relay's time limit; nothing of it was acknowledged.
    RelayTimeout = "relay.timeout",
    /// 405: the route exists but not with this method.
    RouteMethodNotAllowed = "route.method_not_allowed",
    /// The relay answered an error status without an error body (e.g. a proxy in between).
    RelayUnexpected = "relay.unexpected",
    // relay: issue 10 (refused forged assignments, unique order numbers)
    /// Per document: the order's new assignee has no profile on the relay, or their certificate
    /// is expired or withdrawn, or does not cover the service type; nothing of it was stored.
    AssignmentNotQualified = "assignment.not_qualified",
    /// Per document: the order's new assignee belongs to another service centre than the order;
    /// nothing of it was stored.
    AssignmentOtherCentre = "assignment.other_centre",
    /// Per document: another order already uses this order number; nothing of it was stored.
    OrderDuplicateNumber = "order.duplicate_number",
    // --- dispatch: order numbers and parts issue/return (domain, app)
    /// Not an order number of the form `WO-YYYYMMDD-PREFIX-SEQ`.
    OrderNoMalformed = "order_no.malformed",
    /// The device's order-number prefix is not 2–6 of A–Z, 0–9.
    OrderNoBadPrefix = "order_no.bad_prefix",
    /// The device used all 9999 order numbers of the day.
    OrderNoSequenceExhausted = "order_no.sequence_exhausted",
    /// A return or adjustment takes more of a part than the technician holds.
    PartsMoreThanHeld = "parts.more_than_held",
    /// A faulty part's serial matches no part line of the order.
    PartsFaultySerialUnmatched = "parts.faulty_serial_unmatched",
    /// The faulty part was already returned.
    PartsFaultyAlreadyReturned = "parts.faulty_already_returned",
    // --- registry: customers, households, appliances and the CSV order import (domain, app)
    /// Not a Chinese mobile number (11 digits starting with 1) or landline with area code.
    RegistryBadPhone = "registry.bad_phone",
    /// The household is not on this device.
    RegistryHouseholdNotFound = "registry.household_not_found",
    /// An appliance's warranty ends before its purchase date.
    RegistryWarrantyBeforePurchase = "registry.warranty_before_purchase",
    /// The CSV file is not UTF-8 (e.g. saved by Excel as "CSV" instead of "CSV UTF-8").
    ImportNotUtf8 = "import.not_utf8",
    /// The CSV file cannot be read as CSV, or a row has more cells than the header.
    ImportMalformed = "import.malformed",
    /// The CSV file has more bytes or rows than one import takes.
    ImportTooLarge = "import.too_large",
    /// The CSV file could not be opened.
    ImportUnreadable = "import.unreadable",
    /// The CSV file has no data rows.
    ImportEmpty = "import.empty",
    /// A required column is not in the header.
    ImportMissingColumn = "import.missing_column",
    /// A header names no documented column.
    ImportUnknownColumn = "import.unknown_column",
    /// Two headers name the same column.
    ImportDuplicateColumn = "import.duplicate_column",
    /// A required value is empty in this row.
    ImportMissingValue = "import.missing_value",
    /// The service type is not one of 维修/repair, 安装/installation, 保养/maintenance.
    ImportUnknownServiceType = "import.unknown_service_type",
    /// The tier is not one of 普通/standard, 金卡/gold, 白金/platinum.
    ImportUnknownTier = "import.unknown_tier",
    /// The date is not a real date written YYYY-MM-DD or YYYY/M/D.
    ImportBadDate = "import.bad_date",
    /// The time window is not written HH:MM-HH:MM with the end after the start.
    ImportBadTimeWindow = "import.bad_time_window",
    /// Another row of the file has the same external reference.
    ImportDuplicateInFile = "import.duplicate_in_file",
    /// An order with this external reference was already imported (the row is skipped).
    ImportAlreadyImported = "import.already_imported",
    /// The file changed since its preview; preview it again.
    ImportFileChanged = "import.file_changed",
    /// Some rows have errors; nothing was imported.
    ImportHasErrors = "import.has_errors",
    // --- statistics: the performance-bonus formula (domain)
    /// The bonus formula names a figure that does not exist.
    BonusUnknownFigure = "bonus.unknown_figure",
    /// The figure exists but is not one a bonus may be paid on (counts and money).
    BonusFigureNotAllowed = "bonus.figure_not_allowed",
    /// The formula names the same figure twice.
    BonusDuplicateFigure = "bonus.duplicate_figure",
    /// A weight has the wrong sign: a reward must be positive, a deduction negative.
    BonusWeightSign = "bonus.weight_sign",
    /// An amount that must not be negative is (base per order, floor).
    BonusNegativeAmount = "bonus.negative_amount",
    /// The cap is below the floor.
    BonusCapBelowFloor = "bonus.cap_below_floor",
    /// A threshold is outside the figure's range.
    BonusBadThreshold = "bonus.bad_threshold",
    /// The formula's version is 0.
    BonusBadVersion = "bonus.bad_version",
    /// A new version of the bonus formula would take effect in a month already begun or paid.
    BonusEffectiveInPast = "bonus.effective_in_past",
    /// Only an admin may change the bonus formula.
    BonusAdminsOnly = "bonus.admins_only",
    /// A change of `ref:bonus` alters or drops an earlier version (versions are append-only).
    BonusVersionRewritten = "bonus.version_rewritten",
    /// A statistics month is not 1 to 12.
    StatsBadMonth = "stats.bad_month",
    // --- the app
    /// A command failed without a stable code (a crash inside the app, or the bridge to it).
    AppInternal = "app.internal",
    // console: the dispatcher console (app)
    /// A console command was called by a technician: only dispatchers and admins use it.
    ConsoleDispatcherOnly = "console.dispatcher_only",
    /// A schedule window that does not end after it starts.
    OrderBadWindow = "order.bad_window",
    /// An assignment to a technician whose profile is not on the device.
    OrderUnknownTechnician = "order.unknown_technician",
    // profiles: technician profiles edited from the console (domain, app)
    /// The role may not do this to a profile: admins edit and reinstate, dispatchers withdraw.
    ProfileNotAllowed = "profile.not_allowed",
    /// The technician's profile is not on this device.
    ProfileNotFound = "profile.not_found",
    /// A profile needs at least one qualification (service type).
    ProfileNoQualifications = "profile.no_qualifications",
    /// The certificate number is empty, too long, or has spaces or slashes.
    ProfileBadCertificateNo = "profile.bad_certificate_no",
    /// Another technician's profile holds this certificate number.
    ProfileDuplicateCertificate = "profile.duplicate_certificate",
    /// The star level is outside the certificate's levels (1–5).
    ProfileBadStars = "profile.bad_stars",
    /// The valid-from date is not a date, or after today.
    ProfileBadValidFrom = "profile.bad_valid_from",
    /// The valid-until date is not a date, before the valid-from date, or too far after it.
    ProfileBadValidUntil = "profile.bad_valid_until",
    /// A withdrawal or reinstatement needs a reason.
    ProfileReasonRequired = "profile.reason_required",
    /// The certificate is already withdrawn.
    ProfileAlreadyWithdrawn = "profile.already_withdrawn",
    /// The certificate is not withdrawn, so there is nothing to reinstate.
    ProfileNotWithdrawn = "profile.not_withdrawn",
    // conflicts: the conflict review queue's decisions (domain, app)
    /// The conflict is not (or no longer) derived on the order.
    ConflictNotFound = "conflict.not_found",
    /// The conflict was already resolved.
    ConflictAlreadyResolved = "conflict.already_resolved",
    /// The action does not resolve this kind of conflict (or not with this technician).
    ConflictActionNotAllowed = "conflict.action_not_allowed",
    // --- the relay's history search (relay, partial replicas)
    /// 403: the history search is for dispatchers and admins.
    HistoryStaffOnly = "history.staff_only",
    /// 400: the history search names neither a text of two characters or more nor a household,
    /// or both.
    HistoryBadQuery = "history.bad_query",
    /// A history window longer than ten years was asked for (0 holds the whole history).
    HistoryWindowTooLong = "history.window_too_long",
    // --- the relay's records export (relay)
    /// 403: only an admin's session or an API token with the `export` scope may export records.
    ExportForbidden = "export.forbidden",
    /// 400: `since` is not a cursor this relay gave out.
    ExportBadCursor = "export.bad_cursor",
    /// 400: `limit` is not a whole number from 1 to 1000.
    ExportBadLimit = "export.bad_limit",
    /// 400: `format` is neither `jsonl` nor `csv`.
    ExportBadFormat = "export.bad_format",
    // followups: follow-up calls, complaints and maintenance reminders (domain, app)
    /// The centre's service settings (`ref:service`) are not on this device; sync first.
    ServiceSettingsMissing = "service.settings_missing",
    /// A follow-up, retry or complaint time in the service settings is 0 or too long.
    ServiceBadHours = "service.bad_hours",
    /// A maintenance interval is 0 months or longer than ten years, or has no category.
    ServiceBadInterval = "service.bad_interval",
    /// Two maintenance intervals name the same appliance category.
    ServiceDuplicateCategory = "service.duplicate_category",
    /// A maintenance interval has no task text (what the order will be about).
    ServiceTaskMissing = "service.task_missing",
    /// The service settings' version is 0.
    ServiceBadVersion = "service.bad_version",
    /// Only an admin may change the service settings.
    ServiceAdminsOnly = "service.admins_only",
    /// No signed visit of this technician on this order: there is no follow-up to answer.
    FollowupNotFound = "followup.not_found",
    /// The follow-up was already answered (satisfied or complaint).
    FollowupAlreadyAnswered = "followup.already_answered",
    /// A complaint needs the customer's words.
    FollowupWordsRequired = "followup.words_required",
    /// The complaint is not on this order.
    ComplaintNotFound = "complaint.not_found",
    /// The complaint was already resolved.
    ComplaintAlreadyResolved = "complaint.already_resolved",
    /// Resolving a complaint needs a note saying what was done.
    ComplaintNoteRequired = "complaint.note_required",
    /// The reminder is not (or no longer) due: turned into an order, dismissed, or serviced since.
    ReminderNotDue = "reminder.not_due",
    /// Dismissing a reminder needs a reason.
    ReminderReasonRequired = "reminder.reason_required",
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Text that names no [`Code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an Onsite error code")]
pub struct UnknownCode(pub String);

impl std::str::FromStr for Code {
    type Err = UnknownCode;

    /// Strict: only the dotted text of a code (or `unknown`) parses.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownCode(s.to_owned()))
    }
}

/// Lenient, unlike [`std::str::FromStr`]: text that names no code reads as [`Code::Unknown`], so an
/// answer from a newer relay stays readable.
impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(text.parse().unwrap_or(Code::Unknown))
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_serde_and_from_str() {
        for &code in Code::ALL {
            let json = serde_json::to_string(&code).expect("a code serialises");
            assert_eq!(
                json,
                format!("\"{}\"", code.as_str()),
                "{code:?} travels as its dotted text"
            );
            let back: Code = serde_json::from_str(&json).expect("a code deserialises");
            assert_eq!(back, code, "{code:?} reads back as itself");
            assert_eq!(code.as_str().parse::<Code>(), Ok(code), "FromStr agrees");
            assert_eq!(code.to_string(), code.as_str(), "Display agrees");
        }
    }

    #[test]
    fn codes_are_unique_and_dotted() {
        let mut seen = std::collections::BTreeSet::new();
        for &code in Code::ALL {
            assert!(seen.insert(code.as_str()), "{code:?} repeats a code's text");
            if code != Code::Unknown {
                let (area, name) = code.as_str().split_once('.').unwrap_or_default();
                let lower = |s: &str| {
                    !s.is_empty()
                        && s.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                };
                assert!(
                    lower(area) && lower(name),
                    "{code:?} is `area.name` in snake_case"
                );
            }
        }
    }

    #[test]
    fn a_code_from_a_newer_relay_reads_as_unknown_but_from_str_refuses_it() {
        let read: Code = serde_json::from_str("\"relay.invented_later\"")
            .expect("an unknown code must not fail the whole answer");
        assert_eq!(
            read,
            Code::Unknown,
            "unknown codes are read as Code::Unknown"
        );
        assert_eq!(
            "relay.invented_later".parse::<Code>(),
            Err(UnknownCode("relay.invented_later".into())),
            "FromStr is strict so typos are caught"
        );
    }

    #[test]
    fn codes_compare_with_their_text() {
        assert_eq!(Code::RecordFrozen, "record.frozen");
        assert!(Code::RecordFrozen != "record.not_signed");
    }
}
