//! What the relay gives the systems around it (ERP/CRM): the records export
//! (`GET /api/v1/export/records`) and the signed webhook events. Types only.
//!
//! The export answers one [`ExportLine`] per JSON line (`application/x-ndjson`), or a CSV table
//! with the same records (`format=csv`). The cursor to ask for the next page travels in the
//! [`NEXT_CURSOR_HEADER`] header (and in every line), [`MORE_HEADER`] says whether more records
//! were waiting when the page was cut.

use std::collections::BTreeMap;

use onsite_domain::status::Conflict;
use serde::{Deserialize, Serialize};

/// Header of an export answer: the cursor to pass as `since` for the next page.
pub const NEXT_CURSOR_HEADER: &str = "onsite-next-cursor";
/// Header of an export answer: `true` when the page was cut at `limit` and more records wait.
pub const MORE_HEADER: &str = "onsite-more";
/// Header of a webhook request: Unix seconds when it was signed.
pub const TIMESTAMP_HEADER: &str = "onsite-timestamp";
/// Header of a webhook request: `v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.
pub const SIGNATURE_HEADER: &str = "onsite-signature";
/// Header of a webhook request: the event id (the receiver's key to drop a repeated delivery).
pub const EVENT_ID_HEADER: &str = "onsite-event-id";
/// Largest page of the export.
pub const EXPORT_MAX_LIMIT: u32 = 1000;
/// Page size of the export when `limit` is not given.
pub const EXPORT_DEFAULT_LIMIT: u32 = 100;

/// Where a signed record stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordState {
    /// The documents still hash to the signed record hash.
    Valid,
    /// Something signed changed after signing (a conflict for the dispatcher to review).
    ModifiedAfterSigning,
    /// The record was deliberately reopened; the signature shown is the superseded one.
    Reopened,
}

/// The appliance the record is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedAppliance {
    pub category: String,
    pub brand: String,
    pub model: String,
    pub serial: String,
}

/// One completed and signed service record, as exported. A record is exported again (with a
/// newer cursor) whenever what it says changes, so the receiver keeps the last version per
/// `record_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedRecord {
    /// The signed visit's document id (`visit:<order>:<technician>`): one record per visit.
    pub record_id: String,
    pub order_id: String,
    pub order_no: String,
    pub technician_id: String,
    pub state: RecordState,
    /// The canonical record hash (`onsite-record/1`) the customer signed.
    pub record_hash: String,
    pub signed_at_ms: i64,
    pub signer_name: String,
    pub technician_name: String,
    pub certificate_id: String,
    pub customer_name: String,
    pub address: String,
    pub service_type: String,
    pub appliance: Option<ExportedAppliance>,
    pub diagnosis: String,
    pub work_performed: String,
    pub stars: Option<u32>,
    /// Fees and parts, in cents (fen).
    pub total_cents: i64,
    /// The record's canonical sections (`onsite_domain::record::sections`), the whole signed
    /// content.
    pub sections: BTreeMap<String, serde_json::Value>,
}

/// One line of the JSON-lines export: the record and the cursor just after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportLine {
    pub cursor: String,
    pub record: ExportedRecord,
}

/// What happened, with what the receiver needs about it (`kind` and `payload` on the wire).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload")]
pub enum EventPayload {
    /// The order's effective status became completed (its first signed record, or the first one
    /// again after a reopen).
    #[serde(rename = "order.completed")]
    OrderCompleted {
        technician_id: String,
        record_hash: String,
    },
    /// A customer signed a visit's record.
    #[serde(rename = "record.signed")]
    RecordSigned {
        technician_id: String,
        record_hash: String,
        signer_name: String,
    },
    /// The order's effective status became cancelled.
    #[serde(rename = "order.cancelled")]
    OrderCancelled { reason: String },
    /// A contradiction between the order and its visits appeared (`onsite_domain::status`).
    #[serde(rename = "order.conflict")]
    OrderConflict { conflict: Conflict },
}

impl EventPayload {
    /// The `kind` text.
    pub fn kind(&self) -> &'static str {
        match self {
            EventPayload::OrderCompleted { .. } => "order.completed",
            EventPayload::RecordSigned { .. } => "record.signed",
            EventPayload::OrderCancelled { .. } => "order.cancelled",
            EventPayload::OrderConflict { .. } => "order.conflict",
        }
    }
}

/// The body of a webhook request (JSON). Delivered at least once: the receiver drops an `id` it
/// has already handled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEvent {
    /// Unique per event; the same on every retry.
    pub id: String,
    #[serde(flatten)]
    pub what: EventPayload,
    pub order_id: String,
    pub order_no: String,
    /// When it happened (the signature's time, the cancellation's time; for a conflict, when the
    /// relay committed the documents that showed it), milliseconds since the epoch.
    pub occurred_at_ms: i64,
}

/// A message to a customer (a maintenance reminder), the JSON body the customer-message sender
/// gets (an SMS/WeChat gateway turns it into the text it sends). Sent once per `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerMessage {
    /// `rem_<reminder key>`: the same reminder always has the same id.
    pub id: String,
    /// `maintenance.reminder`.
    pub kind: String,
    pub household_id: String,
    pub name: String,
    /// The household's first phone number.
    pub phone: String,
    pub appliance_id: String,
    pub category: String,
    /// What the maintenance is (the centre's wording for the category).
    pub task: String,
    /// The local due date, `YYYY-MM-DD`.
    pub due_date: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_travels_with_kind_and_payload_at_the_top_level() {
        let e = WebhookEvent {
            id: "evt_1".into(),
            what: EventPayload::OrderCancelled {
                reason: "customer moved".into(),
            },
            order_id: "o-1".into(),
            order_no: "WO-1".into(),
            occurred_at_ms: 5,
        };
        let v = serde_json::to_value(&e).expect("an event serialises");
        assert_eq!(v["kind"], "order.cancelled", "kind is a top-level field");
        assert_eq!(
            v["payload"]["reason"], "customer moved",
            "the payload is its own object"
        );
        let back: WebhookEvent = serde_json::from_value(v).expect("and reads back");
        assert_eq!(back, e, "an event round-trips");
    }
}
