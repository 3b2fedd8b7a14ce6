//! What a commit says to the systems around the relay, written in the committing transaction:
//! each touched order's facts, its record snapshots for the export, and the outbox's events
//! (the PostgreSQL side of [`crate::outward`]).

use std::collections::BTreeSet;

use onsite_domain::DocId;
use onsite_wire::back_office::{ExportedRecord, RecordState, WebhookEvent};
use postgres::{Client, GenericClient};
use rand::RngCore;

use crate::history::JobRow;
use crate::outward::{self, Facts};
use crate::storage::StorageError;
use crate::written::{OrderWithVisits, Stored, Written};

/// The order and its visits as stored (the commit's own documents as `written` holds them);
/// `None` when the order is missing or damaged.
pub(super) fn load_order(
    client: &mut impl GenericClient,
    order_id: &str,
    written: &Written<'_>,
) -> Result<Option<OrderWithVisits>, StorageError> {
    let ids = visit_ids(client, order_id)?;
    written.order_with_visits(order_id, ids, |id| stored(client, id))
}

/// The stored visits of order `order_id`, in id order (a key range of `docs`).
pub(super) fn visit_ids(
    client: &mut impl GenericClient,
    order_id: &str,
) -> Result<Vec<DocId>, StorageError> {
    let rows = client.query(
        "SELECT doc_id FROM docs WHERE doc_id >= $1 AND doc_id < $2 ORDER BY doc_id",
        &[&format!("visit:{order_id}:"), &format!("visit:{order_id};")],
    )?;
    rows.iter().map(|r| super::parse_doc_id(r.get(0))).collect()
}

/// A stored document's heads and bytes.
fn stored(client: &mut impl GenericClient, id: &DocId) -> Result<Option<Stored>, StorageError> {
    let row = client.query_opt(
        "SELECT heads, bytes FROM docs WHERE doc_id = $1",
        &[&id.to_string()],
    )?;
    row.map(|r| Ok((super::docs::decode_heads(r.get(0))?, r.get(1))))
        .transpose()
}

/// For each order in `orders` (touched by the commit numbered `seq` at `at_ms`): keep its facts,
/// restamp the record snapshots whose content changed, and — when `emit` — enqueue the events
/// for every active webhook.
pub(super) fn record(
    client: &mut Client,
    orders: &BTreeSet<String>,
    written: &Written<'_>,
    seq: i64,
    at_ms: i64,
    emit: bool,
) -> Result<(), StorageError> {
    for order_id in orders {
        let Some((order, visits)) = load_order(client, order_id, written)? else {
            continue;
        };
        let before: Facts = client
            .query_opt(
                "SELECT facts FROM order_facts WHERE order_id = $1",
                &[order_id],
            )?
            .and_then(|r| serde_json::from_str(r.get(0)).ok())
            .unwrap_or_default();
        let out = outward::derive(&before, &order, &visits, at_ms);
        let row = JobRow::of(&order, &visits);
        super::reminders::mark_job(client, &row)?;
        super::jobs::upsert(client, &row)?;
        client.execute(
            "INSERT INTO order_facts(order_id, facts) VALUES ($1, $2)
             ON CONFLICT(order_id) DO UPDATE SET facts = excluded.facts",
            &[
                order_id,
                &serde_json::to_string(&out.facts).expect("facts serialise"),
            ],
        )?;
        for r in &out.records {
            snapshot(client, r, seq)?;
        }
        if emit {
            for e in out.events {
                let event = WebhookEvent {
                    id: new_event_id(),
                    what: e.what,
                    order_id: order.order_id.clone(),
                    order_no: order.order_no.clone(),
                    occurred_at_ms: e.occurred_at_ms,
                };
                enqueue(client, &event, &order.order_id, at_ms)?;
            }
        }
    }
    Ok(())
}

/// Store a record's snapshot stamped `seq` when its content changed.
fn snapshot(client: &mut Client, r: &ExportedRecord, seq: i64) -> Result<(), StorageError> {
    let body = serde_json::to_string(r).expect("a record serialises");
    let stored: Option<String> = client
        .query_opt(
            "SELECT body FROM export_records WHERE record_id = $1",
            &[&r.record_id],
        )?
        .map(|x| x.get(0));
    // A reopened visit that was never exported signed is not a record.
    let new_reopened = stored.is_none() && r.state == RecordState::Reopened;
    if stored.as_deref() != Some(body.as_str()) && !new_reopened {
        client.execute(
            "INSERT INTO export_records(record_id, seq, body) VALUES ($1, $2, $3)
             ON CONFLICT(record_id) DO UPDATE SET seq = excluded.seq, body = excluded.body",
            &[&r.record_id, &seq, &body],
        )?;
    }
    Ok(())
}

/// `evt_` + 16 random bytes in hex.
fn new_event_id() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    format!("evt_{}", hex::encode(b))
}

/// Store `event` and one pending delivery of it per active webhook.
fn enqueue(
    client: &mut Client,
    event: &WebhookEvent,
    ordering_key: &str,
    now_ms: i64,
) -> Result<(), StorageError> {
    let body = serde_json::to_string(event).expect("an event serialises");
    let row: i64 = client
        .query_one(
            "INSERT INTO outbox_events(event_id, kind, ordering_key, body, created_at_ms)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
            &[&event.id, &event.what.kind(), &ordering_key, &body, &now_ms],
        )?
        .get(0);
    client.execute(
        "INSERT INTO deliveries(event, destination, ordering_key, state, next_attempt_ms)
         SELECT $1, 'webhook:' || id, $2, 'pending', $3 FROM webhooks WHERE removed_at_ms IS NULL",
        &[&row, &ordering_key, &now_ms],
    )?;
    Ok(())
}
