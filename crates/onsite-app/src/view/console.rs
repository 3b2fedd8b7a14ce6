//! What the dispatcher's console shows and sends (ts-rs, like the rest of [`crate::view`]).

use onsite_domain::order::Tier;
use onsite_domain::reference::{CertificateState, NotQualified, ServiceType};
use onsite_domain::status::EffectiveStatus;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::SlaBadgeView;

/// Who is signed in, as far as the UI cares: a technician gets the technician's app, a dispatcher
/// or admin the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RoleView {
    Technician,
    Dispatcher,
    Admin,
}

/// What the dispatcher said about an order (open, on hold, cancelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DispatchStatusView {
    Open,
    OnHold,
    Cancelled,
}

/// One order on the board (pool card or lane block).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct BoardCard {
    pub order_id: String,
    pub order_no: String,
    pub customer_name: String,
    pub address: String,
    pub tier: Tier,
    pub service_type: ServiceType,
    pub problem: String,
    pub status: EffectiveStatus,
    pub dispatch_status: DispatchStatusView,
    pub sla: SlaBadgeView,
    /// Open and at risk or breached: highlighted and counted.
    pub alert: bool,
    /// Deadline of the first SLA target not reached yet (marked on the lane).
    #[ts(type = "number | null")]
    pub next_deadline_ms: Option<i64>,
    #[ts(type = "number | null")]
    pub window_start_ms: Option<i64>,
    #[ts(type = "number | null")]
    pub window_end_ms: Option<i64>,
    pub assignee: Option<String>,
    /// How many times the order was assigned or reassigned.
    pub transfers: u32,
}

/// One technician's lane on the board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct LaneView {
    pub technician_id: String,
    pub name: String,
    pub certificate: CertificateState,
    /// Orders scheduled on the day, by window start.
    pub blocks: Vec<BoardCard>,
    /// The track (row from 0) each block is drawn on, one per block: blocks whose windows
    /// overlap are on different tracks (`onsite_domain::board::tracks`).
    pub block_tracks: Vec<u32>,
    /// How many tracks the lane needs (0 without blocks).
    pub tracks: u32,
    /// Open orders without a schedule window.
    pub unscheduled: Vec<BoardCard>,
}

/// An order that newly became at risk or breached (the in-app alert).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SlaAlertView {
    pub order_id: String,
    pub order_no: String,
    pub badge: SlaBadgeView,
}

/// The dispatch board of one day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct BoardView {
    #[ts(type = "number")]
    pub day_start_ms: i64,
    #[ts(type = "number")]
    pub day_end_ms: i64,
    #[ts(type = "number")]
    pub now_ms: i64,
    /// Unassigned orders that are not cancelled, most urgent first.
    pub pool: Vec<BoardCard>,
    pub lanes: Vec<LaneView>,
    pub at_risk: u32,
    pub breached: u32,
    /// Orders that became at risk or breached since the previous board on this device.
    pub alerts: Vec<SlaAlertView>,
}

/// SLA deadlines an order of a tier would get if saved now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SlaPreview {
    pub tier: Tier,
    #[ts(type = "number")]
    pub respond_by_ms: i64,
    #[ts(type = "number")]
    pub arrive_by_ms: i64,
    #[ts(type = "number")]
    pub complete_by_ms: i64,
}

/// A schedule window entered by the dispatcher.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
pub struct WindowInput {
    #[ts(type = "number")]
    pub start_ms: i64,
    #[ts(type = "number")]
    pub end_ms: i64,
}

/// A new appliance registered with an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ApplianceInput {
    pub category: String,
    pub brand: String,
    pub model: String,
    pub serial: String,
}

/// Arguments of `create_order`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct NewOrderRequest {
    /// An existing household (from `find_customers`), or `null` for a new customer.
    pub household_id: Option<String>,
    pub customer_name: String,
    pub phone: String,
    pub address: String,
    pub tier: Tier,
    pub notes: String,
    /// One of the household's appliances, or `null` to register `new_appliance`.
    pub appliance_id: Option<String>,
    pub new_appliance: Option<ApplianceInput>,
    pub service_type: ServiceType,
    pub problem: String,
    pub window: Option<WindowInput>,
}

/// Arguments of `edit_order`: the fields a dispatcher may change after creation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct EditOrderRequest {
    pub order_id: String,
    pub phone: String,
    pub address: String,
    pub notes: String,
    pub problem: String,
    pub window: Option<WindowInput>,
}

/// An appliance of a household, as the intake form offers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct KnownAppliance {
    pub id: String,
    pub category: String,
    pub brand: String,
    pub model: String,
    pub serial: String,
    pub in_warranty: bool,
}

/// A customer found by phone or name on this device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CustomerMatch {
    pub household_id: String,
    pub name: String,
    pub phone: String,
    pub address: String,
    pub tier: Tier,
    pub notes: String,
    pub appliances: Vec<KnownAppliance>,
}

/// One assignment or reassignment (转派) in an order's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TransferView {
    pub id: String,
    pub from: Option<String>,
    pub from_name: Option<String>,
    pub to: String,
    pub to_name: String,
    pub reason: String,
    pub by: String,
    #[ts(type = "number")]
    pub at_ms: i64,
}

/// One order as the console's order panel shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DispatchOrderView {
    pub card: BoardCard,
    pub phone: String,
    pub notes: String,
    pub status_reason: String,
    pub appliance: Option<KnownAppliance>,
    #[ts(type = "number")]
    pub respond_by_ms: i64,
    #[ts(type = "number")]
    pub arrive_by_ms: i64,
    #[ts(type = "number")]
    pub complete_by_ms: i64,
    /// Oldest first.
    pub transfers: Vec<TransferView>,
    /// The relay refused this device's latest change to the order, if so.
    pub refused: Option<super::RefusalView>,
    // followups: the complaints from follow-up calls on this order, open first.
    pub complaints: Vec<super::ComplaintView>,
}

/// One technician in the assignment picker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PickerRowView {
    pub technician_id: String,
    pub name: String,
    pub certificate_stars: u32,
    /// Why they cannot be chosen (ISO 9001 §7.5.2 b), if so.
    pub not_qualified: Option<NotQualified>,
    /// The order's assignee already.
    pub current: bool,
    pub choosable: bool,
    /// Their orders scheduled on the order's day (or today).
    pub load: u32,
}

/// The assignment picker for one order: choosable technicians first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PickerView {
    pub order_id: String,
    pub order_no: String,
    pub rows: Vec<PickerRowView>,
    /// 自动派单: the qualified technicians ranked by `onsite_domain::suggest`, best first, with
    /// the reasons in the order the ranking weighs them.
    pub suggested: Vec<SuggestionView>,
}

/// One suggested technician.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SuggestionView {
    pub technician_id: String,
    pub name: String,
    /// Free in time for the SLA deadlines.
    pub meets_deadline: bool,
    pub reasons: Vec<onsite_domain::suggest::Reason>,
}

/// A completed and signed visit (the Completions list and the `order-completed` event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CompletionView {
    pub order_id: String,
    pub order_no: String,
    pub technician_id: String,
    pub technician_name: String,
    pub signer_name: String,
    /// The customer's rating, if given.
    pub stars: Option<u32>,
    #[ts(type = "number")]
    pub signed_at_ms: i64,
    /// The hash the customer signed (the record's verification page is keyed by it).
    pub record_hash: String,
    /// The signed record still matches its signature.
    pub verified: bool,
}

/// The Completions screen: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CompletionList {
    pub completions: Vec<CompletionView>,
}

// export: the console's tables as CSV or XLSX files.

/// Which console table `export_table` saves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportTableKind {
    /// The Completions list.
    Completions,
    /// Every technician's low and negative counts.
    StockOverview,
    /// One technician's stock lines (`technician_id` required).
    TechnicianStock,
    /// The follow-up calls waiting (回访).
    FollowUps,
    /// The maintenance reminders due.
    Reminders,
}

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// UTF-8 with a byte-order mark, so Excel opens Chinese text correctly.
    Csv,
    Xlsx,
}

/// Arguments of `export_table`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ExportRequest {
    pub table: ExportTableKind,
    pub technician_id: Option<String>,
    pub format: ExportFormat,
    /// Language of the headers: `zh-CN` or `en`.
    pub language: String,
}

/// A table saved in the export folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SavedExportView {
    /// Full path of the saved file.
    pub path: String,
    pub file_name: String,
    #[ts(type = "number")]
    pub bytes: u64,
    /// Data rows (without the header row).
    pub rows: u32,
}
