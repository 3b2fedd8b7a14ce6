//! Everything that crosses to the UI: command arguments, results, events and errors. TypeScript
//! declarations for these are generated with ts-rs into `ui/src/lib/generated/` (see
//! [`crate::bindings`]); times are Unix milliseconds, money is in fen (CNY cents).

use onsite_domain::Code;
use onsite_domain::completion::MissingKind;
// console: re-exported for the shell (`sla_preview` takes a tier).
pub use onsite_domain::order::Tier;
use onsite_domain::reference::ServiceType;
use onsite_domain::status::EffectiveStatus;
use onsite_domain::visit::CheckResult;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

// console: the dispatcher console's views.
mod console;
pub use console::*;
// profiles: the console's Technicians screen.
mod technicians;
pub use technicians::*;
mod conflicts;
pub use conflicts::*;
// followups: the Follow-ups and Reminders screens.
mod followups;
pub use followups::*;
// followups: the Service settings screen (`ref:service`).
mod service;
pub use service::*;
// stats: the console's Statistics and Scorecard screens.
mod stats;
pub use stats::*;

/// Arguments of `sign_in`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SignInRequest {
    pub relay_url: String,
    pub user: String,
    pub password: String,
    /// The user allowed plain `http://` to a relay on another machine (unencrypted); kept on the
    /// device once the sign-in succeeds.
    pub allow_plain_http: bool,
}

/// Who is signed in on this device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Session {
    pub technician_id: String,
    pub technician_name: String,
    pub relay_url: String,
    pub device_id: String,
    /// console: technicians get the technician's app, dispatchers and admins the console.
    pub role: RoleView,
    /// The relay is reached by plain `http://` over a network: passwords and data travel
    /// unencrypted (the user allowed it at sign-in).
    pub unencrypted: bool,
}

/// What the sign-in screen proposes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SignInForm {
    /// The relay last signed in at on this device, else the default.
    pub relay_url: String,
    /// Where a zero-config relay on this machine listens.
    pub default_relay_url: String,
    /// Whether plain `http://` to another machine is allowed on this device (the last choice).
    pub allow_plain_http: bool,
}

/// Whether the device is in hand-over mode: only this order's hand-over is reachable until the
/// customer signed or the technician unlocks it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct HandoverLock {
    pub order_id: Option<String>,
}

/// The answer of `sign_out`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SignOutView {
    /// Whether the relay revoked the token; `false` when it could not be reached (the token then
    /// expires on the relay by itself).
    pub relay_notified: bool,
}

/// The SLA badge shown on an order (worst of respond, arrive, complete).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SlaBadgeView {
    Met,
    OnTrack,
    AtRisk,
    Breached,
}

/// A visit step the technician records from the order screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Accepted,
    EnRoute,
    Arrived,
    WorkStarted,
    WorkDone,
    Signed,
    Reopened,
}

/// One line of the Today list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct OrderCard {
    pub order_id: String,
    pub order_no: String,
    pub customer_name: String,
    pub address: String,
    pub tier: Tier,
    pub service_type: ServiceType,
    #[ts(type = "number | null")]
    pub window_start_ms: Option<i64>,
    #[ts(type = "number | null")]
    pub window_end_ms: Option<i64>,
    pub status: EffectiveStatus,
    pub sla: SlaBadgeView,
    pub problem: String,
}

/// The Today screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Today {
    #[ts(type = "number")]
    pub now_ms: i64,
    pub orders: Vec<OrderCard>,
}

/// The Upcoming screen and search results: orders as on Today.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct OrderList {
    #[ts(type = "number")]
    pub now_ms: i64,
    pub orders: Vec<OrderCard>,
}

/// One appliance of the household.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ApplianceView {
    pub id: String,
    pub category: String,
    pub brand: String,
    pub model: String,
    pub serial: String,
    #[ts(type = "number | null")]
    pub warranty_until_ms: Option<i64>,
    pub in_warranty: bool,
    /// The appliance this order is about.
    pub this_order: bool,
    /// Its service history: earlier orders on it by anyone, newest first
    /// (`onsite_domain::history`).
    pub history: Vec<onsite_domain::history::ServiceEntry>,
}

/// How an item is answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ItemKindView {
    Tick,
    Evidence,
    PassFail,
    Reading { unit: String, min: f64, max: f64 },
    CustomerConfirm { confirmation: ConfirmationView },
    SignedRecord,
    HomeCheck,
}

/// What the customer confirms at hand-over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ConfirmationView {
    UsageExplained,
    NoWater,
    NoSmoke,
    NoMeal,
    NoGift,
}

/// Whether an item takes a photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PhotoRule {
    None,
    Optional,
    Required,
}

/// An answer to a checklist item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutcomeView {
    Done,
    NotApplicable { reason: String },
    Pass,
    Fail,
    Reading { value: f64, unit: String },
}

/// An answered item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AnswerView {
    pub outcome: OutcomeView,
    pub note: String,
    /// SHA-256 of each photo attachment.
    pub photos: Vec<String>,
}

/// One checklist item with its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ItemView {
    pub id: String,
    pub group: String,
    pub label_zh_cn: String,
    pub label_en: String,
    pub kind: ItemKindView,
    pub required: bool,
    pub photo: PhotoRule,
    pub answer: Option<AnswerView>,
    /// Who satisfies this item: the technician, the customer's confirmation or the signature.
    pub by: AnsweredByView,
    /// Done, open or still blocking (from the domain's completion rules).
    pub state: ItemStateView,
    /// How the item reads on the signed record, in the record's own words; `null` until signed.
    pub record_text: Option<TextView>,
}

/// Who satisfies a checklist item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AnsweredByView {
    Technician,
    Customer,
    Signature,
}

/// Where a checklist item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ItemStateView {
    /// Answered, confirmed or signed; blocks nothing.
    Done,
    /// Not done, optional; blocks nothing.
    Open,
    /// Blocks signing (the signature item: until the customer signs).
    Missing,
}

/// A text Rust words in both languages (the UI picks one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TextView {
    pub zh_cn: String,
    pub en: String,
}

/// One checklist of the visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ChecklistView {
    pub template_id: String,
    pub version: u32,
    pub title_zh_cn: String,
    pub title_en: String,
    pub items: Vec<ItemView>,
    /// Required items the technician answers, and how many of them no longer block signing.
    pub required_total: u32,
    pub required_done: u32,
}

/// What still blocks signing, as the domain's completion rules say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct MissingView {
    pub code: MissingKind,
    pub template_id: Option<String>,
    pub item_id: Option<String>,
    /// Label of the item, when the entry is about one.
    pub label_zh_cn: Option<String>,
    pub label_en: Option<String>,
}

/// A part used on the job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PartLineView {
    pub id: String,
    pub part_no: String,
    pub name_zh_cn: String,
    pub name_en: String,
    #[ts(type = "number")]
    pub qty: i64,
    #[ts(type = "number")]
    pub unit_price_cents: i64,
    pub faulty_serial: String,
    pub replacement_serial: String,
    pub source: StockSourceView,
}

/// Where a part comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum StockSourceView {
    Personal,
    Warehouse,
}

/// A fee line picked for the job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FeeLineView {
    pub id: String,
    pub code: String,
    pub label_zh_cn: String,
    pub label_en: String,
    #[ts(type = "number")]
    pub qty: i64,
    #[ts(type = "number")]
    pub unit_price_cents: i64,
}

/// A one-stop home check entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct HomeCheckView {
    pub id: String,
    pub appliance: String,
    pub result: CheckResult,
    pub note: String,
}

/// The customer's signature, once signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SignedView {
    pub signer_name: String,
    #[ts(type = "number")]
    pub signed_at_ms: i64,
    pub record_hash: String,
    pub image_sha256: String,
    pub technician_name: String,
    pub certificate_id: String,
}

/// A customer confirmation and whether it is given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ConfirmationState {
    pub confirmation: ConfirmationView,
    pub value: bool,
}

/// The customer's rating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RatingView {
    pub stars: u32,
    pub comment: String,
}

/// The relay refused this device's latest change to a document of the order: the change is kept
/// on the device (nothing typed is lost) and not sent again until the document changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RefusalView {
    pub code: Code,
    /// The relay's own words (English), shown under the localised message of `code`.
    pub message: String,
    #[ts(type = "number")]
    pub at_ms: i64,
}

/// The Order screen, and everything the job screens (checklist, parts, fees, hand-over, done) show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct OrderDetail {
    pub card: OrderCard,
    pub phone: String,
    pub notes: String,
    pub preferences: Vec<String>,
    pub dispatcher_notes: String,
    pub appliances: Vec<ApplianceView>,
    /// The latest recorded step, `null` before the first.
    pub step: Option<Step>,
    pub checklists: Vec<ChecklistView>,
    pub parts: Vec<PartLineView>,
    pub fees: Vec<FeeLineView>,
    pub diagnosis: String,
    pub work_performed: String,
    pub home_checks: Vec<HomeCheckView>,
    pub confirmations: Vec<ConfirmationState>,
    pub rating: Option<RatingView>,
    /// What blocks signing now; empty means the customer may sign.
    pub missing: Vec<MissingView>,
    pub signed: Option<SignedView>,
    #[ts(type = "number")]
    pub fees_total_cents: i64,
    #[ts(type = "number")]
    pub parts_total_cents: i64,
    /// The visit has edits this device has not yet delivered to the relay.
    pub pending_sync: bool,
    /// conflicts: contradictions between the dispatcher's order and this technician's visit
    /// (cancelled or put on hold while on site, reassigned, …), with the dispatcher's decision.
    pub conflicts: Vec<OrderConflictView>,
    /// The relay refused the visit's latest change, if so.
    pub refused: Option<RefusalView>,
}

/// An edit the technician or customer makes to the visit. Ids and times are chosen by the app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EditRequest {
    Progress {
        step: Step,
    },
    Answer {
        template_id: String,
        item_id: String,
        outcome: OutcomeView,
        note: String,
    },
    DetachPhoto {
        template_id: String,
        item_id: String,
        sha256: String,
    },
    ClearAnswer {
        template_id: String,
        item_id: String,
    },
    AddPart {
        part_no: String,
        #[ts(type = "number")]
        qty: i64,
        faulty_serial: String,
        replacement_serial: String,
        source: StockSourceView,
    },
    RemovePart {
        id: String,
    },
    AddFee {
        code: String,
        #[ts(type = "number")]
        qty: i64,
    },
    RemoveFee {
        id: String,
    },
    SetNotes {
        diagnosis: String,
        work_performed: String,
    },
    AddHomeCheck {
        appliance: String,
        result: CheckResult,
        note: String,
    },
    RemoveHomeCheck {
        id: String,
    },
    Confirm {
        confirmation: ConfirmationView,
        value: bool,
    },
    Rate {
        #[ts(type = "number")]
        stars: i64,
        comment: String,
    },
    Reopen {
        reason: String,
    },
}

/// A field the technician types into, whose text is kept as a draft until committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DraftField {
    Diagnosis,
    WorkPerformed,
    Reading {
        template_id: String,
        item_id: String,
    },
    Note {
        template_id: String,
        item_id: String,
    },
    NaReason {
        template_id: String,
        item_id: String,
    },
}

/// Arguments of `save_draft`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DraftRequest {
    pub order_id: String,
    pub field: DraftField,
    pub text: String,
}

/// One kept draft, as `drafts` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DraftView {
    pub field: DraftField,
    pub text: String,
    #[ts(type = "number")]
    pub saved_at_ms: i64,
}

/// Arguments of `add_photo`: the photo's bytes, base64-encoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PhotoRequest {
    pub order_id: String,
    pub template_id: String,
    pub item_id: String,
    pub bytes_base64: String,
}

/// Arguments of `sign`: the customer's name and the signature pad's PNG, base64-encoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SignRequest {
    pub order_id: String,
    pub signer_name: String,
    pub png_base64: String,
}

/// A record PDF saved on the device (`save_record_pdf`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SavedRecordView {
    /// Full path of the saved file.
    pub path: String,
    pub file_name: String,
    #[ts(type = "number")]
    pub bytes: u64,
    pub pages: u32,
    /// The signed record hash printed on it.
    pub record_hash: String,
}

/// The technician's star-service certificate (一证件) with a scannable QR code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CertificateView {
    pub technician_id: String,
    pub name: String,
    pub phone: String,
    pub certificate_id: String,
    pub stars: u32,
    #[ts(type = "number")]
    pub expires_ms: i64,
    pub valid: bool,
    /// The text encoded in the QR code.
    pub qr_text: String,
    /// An SVG document of the QR code.
    pub qr_svg: String,
}

/// One line of the published fee schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FeeItemView {
    pub code: String,
    pub label_zh_cn: String,
    pub label_en: String,
    pub category_zh_cn: String,
    pub category_en: String,
    pub unit_zh_cn: String,
    pub unit_en: String,
    #[ts(type = "number")]
    pub unit_price_cents: i64,
}

/// The published fee schedule (二公开).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FeeScheduleView {
    pub version: u32,
    pub currency: String,
    #[ts(type = "number")]
    pub effective_from_ms: i64,
    pub items: Vec<FeeItemView>,
}

/// A catalogue part with the technician's on-hand quantity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StockPart {
    pub part_no: String,
    pub name_zh_cn: String,
    pub name_en: String,
    #[ts(type = "number")]
    pub unit_price_cents: i64,
    pub serialised: bool,
    /// Personal stock on hand (negative when more was used than issued).
    #[ts(type = "number")]
    pub on_hand: i64,
}

/// Arguments of `stock_after_use`: a part the technician is about to add.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StockUseRequest {
    pub part_no: String,
    #[ts(type = "number")]
    pub qty: i64,
    pub source: StockSourceView,
}

/// Personal stock of a part before and after adding it to the job (the domain's stock rule).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StockAfterUseView {
    #[ts(type = "number")]
    pub on_hand: i64,
    #[ts(type = "number")]
    pub left: i64,
    /// Adding it takes personal stock below zero: the screen warns.
    pub below_zero: bool,
}

/// The Parts screen: the catalogue with personal stock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PartsView {
    pub parts: Vec<StockPart>,
}

/// The sync state the always-visible sync bar shows; also sent as the `sync-status` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SyncStatus {
    pub online: bool,
    /// Local edits not yet acknowledged by the relay.
    #[ts(type = "number")]
    pub pending_changes: u64,
    #[ts(type = "number | null")]
    pub last_synced_ms: Option<i64>,
    /// "n of N" while a sync that takes more than one answer runs, `null` otherwise.
    pub progress: Option<SyncProgress>,
    /// Stable code of the last sync error, if the last attempt failed.
    pub last_error: Option<Code>,
}

/// Documents received so far in a long sync (`done`) of the `total` the relay counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SyncProgress {
    #[ts(type = "number")]
    pub done: u64,
    #[ts(type = "number")]
    pub total: u64,
}

/// UI settings kept on the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Settings {
    /// `zh-CN` or `en`; `null` means follow the OS language.
    pub language: Option<String>,
}

/// The error every command returns: a stable code the UI translates, an English message for logs,
/// and for `completion.incomplete` the precise list of what is missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CommandError {
    pub code: Code,
    pub message: String,
    pub missing: Vec<MissingView>,
    /// registry: the form field a refused household or appliance entry concerns.
    pub field: Option<onsite_domain::household::FieldRef>,
}

/// Names of the events the app emits to the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub enum EventName {
    /// Payload: [`SyncStatus`].
    #[serde(rename = "sync-status")]
    SyncStatus,
    /// Payload: none; documents changed by sync, reload what is shown.
    #[serde(rename = "documents-changed")]
    DocumentsChanged,
    // console: live completions.
    /// Payload: [`CompletionView`]; a sync brought a newly signed visit (dispatchers only).
    #[serde(rename = "order-completed")]
    OrderCompleted,
}

impl EventName {
    /// The name the shell emits and `ui/src/lib/backend.ts` listens to (its serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            EventName::SyncStatus => "sync-status",
            EventName::DocumentsChanged => "documents-changed",
            // console:
            EventName::OrderCompleted => "order-completed",
        }
    }
}

// dispatch: parts issue and return (领料 / 退料), the dispatcher's side

/// Arguments of `issue_parts`, `return_parts` and `adjust_stock`: one movement of a catalogue
/// part in a technician's stock. For `adjust_stock`, `qty` is the signed correction and `note`
/// the mandatory reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StockMoveRequest {
    pub technician_id: String,
    pub part_no: String,
    #[ts(type = "number")]
    pub qty: i64,
    pub note: String,
}

/// Arguments of `return_faulty_part`: the faulty part taken out on site on `order_id`, by the
/// serial recorded on the order's part line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FaultyReturnRequest {
    pub technician_id: String,
    pub order_id: String,
    pub serial: String,
    pub note: String,
}

/// Why a technician's stock moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub enum StockMoveKind {
    Issued,
    Returned,
    Adjusted,
}

/// One part in a technician's stock, flagged as the domain's low-stock rule says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StockLineView {
    pub part_no: String,
    pub name_zh_cn: String,
    pub name_en: String,
    #[ts(type = "number")]
    pub on_hand: i64,
    /// Fewer than `low_threshold` on hand.
    pub low: bool,
    /// More used than issued.
    pub negative: bool,
}

/// One ledger entry, newest first in [`TechnicianStockView::entries`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StockEntryView {
    pub id: String,
    pub part_no: String,
    pub kind: StockMoveKind,
    /// Signed change of the stock.
    #[ts(type = "number")]
    pub delta: i64,
    #[ts(type = "number")]
    pub at_ms: i64,
    pub by: String,
    pub note: String,
}

/// A faulty part handed back, newest first in [`TechnicianStockView::faulty_returns`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FaultyReturnView {
    pub order_id: String,
    pub order_no: String,
    pub part_no: String,
    pub serial: String,
    #[ts(type = "number")]
    pub at_ms: i64,
    pub by: String,
    pub note: String,
}

/// A technician's stock as the dispatcher sees it: every part ever issued or used, movements
/// and faulty returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TechnicianStockView {
    pub technician_id: String,
    pub technician_name: String,
    /// A part is low when fewer than this are on hand.
    #[ts(type = "number")]
    pub low_threshold: i64,
    pub lines: Vec<StockLineView>,
    pub low_count: u32,
    pub negative_count: u32,
    pub entries: Vec<StockEntryView>,
    pub faulty_returns: Vec<FaultyReturnView>,
    /// Faulty parts taken out on the technician's visits and not handed back yet
    /// (`onsite_domain::parts::awaiting_faulty_return`), by order.
    pub awaiting_faulty: Vec<AwaitingFaultyView>,
}

/// A part line of one of the technician's visits whose faulty part is still to come back; its
/// `order_id` and `serial` are what `return_faulty_part` takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AwaitingFaultyView {
    pub order_id: String,
    pub order_no: String,
    pub part_line_id: String,
    pub part_no: String,
    /// The part's name as recorded on the visit.
    pub name_zh_cn: String,
    pub name_en: String,
    /// The faulty serial recorded on the part line.
    pub serial: String,
}

/// One technician in the stock overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StockSummaryView {
    pub technician_id: String,
    pub technician_name: String,
    pub low_count: u32,
    pub negative_count: u32,
}

/// Every technician whose ledger is on this device, by id, with their low and negative counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StockOverview {
    #[ts(type = "number")]
    pub low_threshold: i64,
    pub technicians: Vec<StockSummaryView>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_are_their_serde_names() {
        for e in [
            EventName::SyncStatus,
            EventName::DocumentsChanged,
            EventName::OrderCompleted,
        ] {
            assert_eq!(
                serde_json::to_string(&e).unwrap(),
                format!("\"{}\"", e.as_str()),
                "the shell emits what the UI's generated EventName type says"
            );
        }
    }
}

// registry: the customer registry and the CSV order import (dispatcher console) ---------------

/// A household found by `search_customers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct HouseholdCard {
    pub household_id: String,
    pub name: String,
    /// Normalised numbers, the first one called first.
    pub phones: Vec<String>,
    pub address: String,
    pub tier: Tier,
    pub appliances: u32,
    /// Orders of the household on this device.
    pub orders: u32,
    #[ts(type = "number | null")]
    pub last_order_at_ms: Option<i64>,
}

/// The answer of `search_customers`: best matches first (see `Store::search_households`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CustomerSearch {
    pub query: String,
    pub households: Vec<HouseholdCard>,
}

/// The history window a dispatcher's device holds (`days` `null`: the whole history).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct HistoryWindowView {
    pub days: Option<u32>,
    pub default_days: u32,
}

/// A search of the relay's whole history: `query` (order number, phone or part of a name) or
/// `household_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct HistorySearchRequest {
    pub query: Option<String>,
    pub household_id: Option<String>,
}

/// One job found in the relay's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct HistoryJobView {
    pub order_id: String,
    pub order_no: String,
    pub customer_name: String,
    pub household_id: String,
    pub settled: bool,
    #[ts(type = "number")]
    pub last_activity_ms: i64,
    /// Already on this device.
    pub on_device: bool,
    /// The documents to fetch (`fetch_history`).
    pub docs: Vec<String>,
}

/// The answer of `search_history`, newest activity first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct HistorySearchView {
    pub query: Option<String>,
    pub household_id: Option<String>,
    pub jobs: Vec<HistoryJobView>,
}

/// What `fetch_history` brought onto the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FetchedView {
    pub fetched: u32,
}

/// Contact fields of a household, as the dispatcher enters them (phones in any usual spelling).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ContactRequest {
    pub name: String,
    pub phones: Vec<String>,
    pub address: String,
    pub tier: Tier,
    pub notes: String,
    pub preferences: Vec<String>,
}

/// An appliance to register (`id` null: a new one; else the one to update).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ApplianceRequest {
    pub id: Option<String>,
    pub category: String,
    pub brand: String,
    pub model: String,
    pub serial: String,
    #[ts(type = "number | null")]
    pub purchase_date_ms: Option<i64>,
    #[ts(type = "number | null")]
    pub warranty_until_ms: Option<i64>,
}

/// One technician's visit on a household's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct HouseholdVisitView {
    pub technician_id: String,
    pub stage: Option<Step>,
    #[ts(type = "number | null")]
    pub signed_at_ms: Option<i64>,
    pub technician_name: Option<String>,
    pub parts: Vec<onsite_domain::history::ReplacedPart>,
    pub rating: Option<RatingView>,
}

/// One order of a household, with its visits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct HouseholdOrderView {
    pub order_id: String,
    pub order_no: String,
    pub appliance_id: String,
    pub service_type: ServiceType,
    pub problem: String,
    pub status: EffectiveStatus,
    pub assignee: Option<String>,
    #[ts(type = "number")]
    pub created_at_ms: i64,
    /// Whether the appliance was under warranty when the order was created.
    pub in_warranty: bool,
    pub external_ref: Option<String>,
    pub visits: Vec<HouseholdVisitView>,
}

/// An appliance of the household as the registry holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RegistryApplianceView {
    pub id: String,
    pub category: String,
    pub brand: String,
    pub model: String,
    pub serial: String,
    #[ts(type = "number | null")]
    pub purchase_date_ms: Option<i64>,
    #[ts(type = "number | null")]
    pub warranty_until_ms: Option<i64>,
    /// Under warranty now.
    pub in_warranty: bool,
    /// Orders about this appliance on this device.
    pub orders: u32,
}

/// The household view: the registry's document and every order and visit of the household.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct HouseholdView {
    pub household_id: String,
    pub name: String,
    pub phones: Vec<String>,
    pub address: String,
    pub tier: Tier,
    pub notes: String,
    pub preferences: Vec<String>,
    pub appliances: Vec<RegistryApplianceView>,
    /// Newest first.
    pub orders: Vec<HouseholdOrderView>,
    /// The household has edits this device has not yet delivered to the relay.
    pub pending_sync: bool,
}

/// The CSV file to import: a path on this device (desktop file dialog) or its bytes (file input).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ImportSource {
    pub path: Option<String>,
    pub bytes_base64: Option<String>,
}

/// One problem of the file or of a row: a stable code, the column, the offending text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ImportIssueView {
    pub code: Code,
    pub column: Option<onsite_domain::import::Column>,
    pub value: String,
}

/// What importing a row does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ImportRowStatus {
    /// A new order will be created.
    New,
    /// An order with this external reference exists; the row is skipped.
    AlreadyImported,
    /// The row has errors; nothing is imported until they are fixed.
    Invalid,
}

/// One data row of the preview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ImportRowView {
    /// The row number as the spreadsheet shows it (the header is row 1).
    pub row_no: u32,
    pub status: ImportRowStatus,
    pub external_ref: String,
    pub customer_name: String,
    pub phone: String,
    pub service_type: Option<ServiceType>,
    /// The registry household the row joins (`null`: a new household, or an invalid row).
    pub household_id: Option<String>,
    pub household_name: Option<String>,
    /// For an already imported row: the existing order's number.
    pub order_no: Option<String>,
    pub issues: Vec<ImportIssueView>,
}

/// The answer of `import_preview`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ImportPreview {
    /// SHA-256 of the file: `import_commit` refuses a file that changed since.
    pub file_sha256: String,
    /// Problems of the header (unknown, repeated or missing columns); rows are not checked then.
    pub file_issues: Vec<ImportIssueView>,
    pub rows: Vec<ImportRowView>,
    pub total: u32,
    pub new_orders: u32,
    pub already_imported: u32,
    pub invalid: u32,
    pub new_households: u32,
    /// Whether `import_commit` will import (no file issue, no invalid row).
    pub can_commit: bool,
}

/// Arguments of `import_commit`: the same file, and the fingerprint its preview showed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ImportCommitRequest {
    pub source: ImportSource,
    pub file_sha256: String,
}

/// The answer of `import_commit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ImportResult {
    /// Numbers of the orders created, in file order.
    pub order_nos: Vec<String>,
    /// Rows skipped because they were imported before.
    pub skipped: u32,
    pub new_households: u32,
}

// registry: end --------------------------------------------------------------------------------
