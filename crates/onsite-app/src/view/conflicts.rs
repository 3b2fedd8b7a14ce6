//! The conflict review queue as the console shows it, the dispatcher's decision, and the
//! conflicts a technician sees on their own order (ts-rs, like the rest of [`crate::view`]).

use onsite_domain::resolve::{Choice, ResolutionAction};
use onsite_domain::status::{ConflictKind, EffectiveStatus};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::DispatchStatusView;

/// A dispatcher's decision on a conflict, as recorded on the order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ResolutionView {
    pub action: ResolutionAction,
    /// The technician the action concerned (accepted, chosen, given back to), if any.
    pub technician_id: Option<String>,
    pub technician_name: Option<String>,
    pub note: String,
    pub by: String,
    #[ts(type = "number")]
    pub at_ms: i64,
}

/// One item of the review queue, with the facts needed to decide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ConflictView {
    pub order_id: String,
    pub order_no: String,
    /// The conflict's identity, sent back with a decision.
    pub key: String,
    pub kind: ConflictKind,
    pub status: EffectiveStatus,
    pub dispatch_status: DispatchStatusView,
    pub status_reason: String,
    /// The technicians the conflict is about (one, or several for multiple completions).
    pub technicians: Vec<String>,
    pub technician_names: Vec<String>,
    pub current_assignee: Option<String>,
    /// Sections of the signed record that changed (modified after signing).
    pub sections: Vec<String>,
    /// Waiting for a decision.
    pub open: bool,
    /// Still derived from the order and its visits (a decision to keep things as they are
    /// leaves it so); `false` once a decision changed the order.
    pub derived: bool,
    /// What the dispatcher may decide, while open.
    pub allowed: Vec<ChoiceView>,
    pub resolution: Option<ResolutionView>,
}

/// One decision the dispatcher may take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ChoiceView {
    pub choice: Choice,
    pub technician_name: Option<String>,
}

/// A part a technician used more of than they were issued (the ledger below zero); the Stock
/// screen's "issue parts" settles it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct NegativeStockView {
    pub technician_id: String,
    pub technician_name: String,
    pub part_no: String,
    #[ts(type = "number")]
    pub on_hand: i64,
}

/// The review queue: open conflicts first, then the resolved ones, each by order number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ConflictQueueView {
    /// Conflicts waiting for a decision plus negative stock lines: what the console counts.
    pub open: u32,
    pub conflicts: Vec<ConflictView>,
    pub negative_stock: Vec<NegativeStockView>,
}

/// Arguments of `resolve_conflict`: one of the conflict's `allowed` choices and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ResolveConflictRequest {
    pub order_id: String,
    /// [`ConflictView::key`].
    pub key: String,
    pub choice: Choice,
    pub note: String,
}

/// A conflict on the technician's own order, in plain words (keyed by kind), with the
/// dispatcher's decision when there is one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct OrderConflictView {
    pub kind: ConflictKind,
    /// What the dispatcher says about the order now, and why.
    pub dispatch_status: DispatchStatusView,
    pub status_reason: String,
    pub resolution: Option<ResolutionView>,
}
