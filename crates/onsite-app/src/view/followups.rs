//! The console's Follow-ups and Reminders screens (回访, complaints, maintenance reminders), as
//! the UI shows them (ts-rs, like the rest of [`crate::view`]). Due times, overdue flags and the
//! lists' order come from `onsite_domain::followup` and `onsite_domain::reminder`.

use onsite_domain::followup::CallOutcome;
use onsite_domain::reminder::Since;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// One open follow-up call: whom to call about which completion, and by when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FollowUpView {
    pub order_id: String,
    pub order_no: String,
    pub technician_id: String,
    pub technician_name: String,
    pub customer_name: String,
    pub phone: String,
    #[ts(type = "number")]
    pub signed_at_ms: i64,
    #[ts(type = "number")]
    pub due_at_ms: i64,
    pub overdue: bool,
    /// Calls without an answer so far.
    pub attempts: u32,
    #[ts(type = "number | null")]
    pub last_call_at_ms: Option<i64>,
}

/// How a complaint was resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ComplaintResolutionView {
    pub note: String,
    pub by: String,
    #[ts(type = "number")]
    pub at_ms: i64,
    pub in_time: bool,
}

/// A complaint tracked on an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ComplaintView {
    pub order_id: String,
    pub order_no: String,
    pub complaint_id: String,
    pub technician_id: String,
    pub technician_name: String,
    pub customer_name: String,
    pub phone: String,
    /// The customer's words.
    pub words: String,
    pub received_by: String,
    #[ts(type = "number")]
    pub received_at_ms: i64,
    #[ts(type = "number")]
    pub resolve_by_ms: i64,
    pub open: bool,
    /// Open and past its deadline.
    pub overdue: bool,
    pub resolution: Option<ComplaintResolutionView>,
}

/// The Follow-ups screen: open calls, most urgent first; complaints, open first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FollowUpsView {
    pub follow_ups: Vec<FollowUpView>,
    pub overdue: u32,
    pub complaints: Vec<ComplaintView>,
    pub open_complaints: u32,
}

/// Arguments of `record_follow_up`: the answer of one call about `technician_id`'s completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FollowUpAnswerRequest {
    pub order_id: String,
    pub technician_id: String,
    pub outcome: CallOutcome,
    /// The customer's words (required for a complaint).
    pub words: String,
}

/// Arguments of `resolve_complaint`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ResolveComplaintRequest {
    pub order_id: String,
    pub complaint_id: String,
    pub note: String,
}

/// One due maintenance reminder, with what the dispatcher needs to call the household.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ReminderView {
    pub key: String,
    pub household_id: String,
    pub customer_name: String,
    pub phone: String,
    pub address: String,
    pub appliance_id: String,
    pub category: String,
    pub brand: String,
    pub model: String,
    pub task: String,
    pub months: u32,
    pub since: Since,
    #[ts(type = "number")]
    pub since_ms: i64,
    /// The centre's local due date, `YYYY-MM-DD`.
    pub due_date: String,
    #[ts(type = "number")]
    pub due_at_ms: i64,
}

/// The Reminders screen: every reminder due now, earliest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RemindersView {
    pub due: Vec<ReminderView>,
}

/// Arguments of `order_from_reminder` and `dismiss_reminder` (the reason only for the latter).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ReminderActionRequest {
    pub household_id: String,
    pub key: String,
    pub reason: String,
}
