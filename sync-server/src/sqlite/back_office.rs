//! The SQLite side of what the relay gives the systems around it: API tokens, the records
//! export's snapshots, and the outbox (webhooks, events, deliveries, attempts). The snapshots and
//! events are written by [`record_outward`] inside the transaction that commits the documents.

use std::collections::BTreeSet;

use onsite_domain::DocId;
use onsite_wire::back_office::{RecordState, WebhookEvent};
use rand::RngCore;
use rusqlite::{OptionalExtension, Transaction, params};

use super::SqliteStorage;
use crate::export::{Position, RecordExport, Stamped};
use crate::history::JobRow;
use crate::outbox::{Attempt, Destination, Due, Next, OutboxStore, Webhook};
use crate::outward::{self, Facts};
use crate::sender::Sent;
use crate::storage::StorageError;
use crate::tokens::{ApiToken, ApiTokenStore, Scope};
use crate::written::{OrderWithVisits, Stored, Written};

/// The order a document belongs to, if any.
pub(super) fn order_of(doc: &DocId) -> Option<&str> {
    match doc {
        DocId::Order(id) => Some(id),
        DocId::Visit { order_id, .. } => Some(order_id),
        _ => None,
    }
}

/// The order and its visits as stored in `tx` (the commit's own documents as `written` holds
/// them); `None` when the order is missing or damaged.
pub(super) fn load_order(
    tx: &Transaction<'_>,
    order_id: &str,
    written: &Written<'_>,
) -> Result<Option<OrderWithVisits>, StorageError> {
    // A key range, not `LIKE`: the primary key's index finds the order's visits without reading
    // every stored document (a `LIKE` scans the whole table, under the writer's lock).
    let ids = super::visit_ids(tx, order_id)?;
    written.order_with_visits(order_id, ids, |id| stored(tx, id))
}

/// A stored document's heads and bytes.
fn stored(tx: &Transaction<'_>, id: &DocId) -> Result<Option<Stored>, StorageError> {
    let row: Option<(Vec<u8>, Vec<u8>)> = tx
        .prepare_cached("SELECT heads, bytes FROM docs WHERE doc_id = ?1")?
        .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(heads, bytes)| Ok((super::decode_heads(&heads)?, bytes)))
        .transpose()
}

/// For each order in `orders` (touched by the commit numbered `seq` at `at_ms`): keep its facts,
/// restamp the record snapshots whose content changed, and — when `emit` — enqueue the events
/// for every active webhook, and keep its row of the job index. The migration that adds these
/// tables calls it with `emit` false.
pub(super) fn record_outward(
    tx: &Transaction<'_>,
    orders: &BTreeSet<String>,
    written: &Written<'_>,
    seq: i64,
    at_ms: i64,
    emit: bool,
) -> Result<(), StorageError> {
    for order_id in orders {
        let Some((order, visits)) = load_order(tx, order_id, written)? else {
            continue;
        };
        let before: Facts = tx
            .prepare_cached("SELECT facts FROM order_facts WHERE order_id = ?1")?
            .query_row([order_id], |r| r.get::<_, String>(0))
            .optional()?
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        let out = outward::derive(&before, &order, &visits, at_ms);
        // The migration adding the back office (`emit` false) runs before the job index exists;
        // the job index's own migration fills it.
        if emit {
            let row = JobRow::of(&order, &visits);
            super::reminders::mark_job(tx, &row)?;
            super::jobs::upsert(tx, &row)?;
        }
        tx.prepare_cached(
            "INSERT INTO order_facts(order_id, facts) VALUES (?1, ?2)
             ON CONFLICT(order_id) DO UPDATE SET facts = excluded.facts",
        )?
        .execute(params![
            order_id,
            serde_json::to_string(&out.facts).expect("facts serialise")
        ])?;
        for r in &out.records {
            let body = serde_json::to_string(r).expect("a record serialises");
            let stored: Option<String> = tx
                .prepare_cached("SELECT body FROM export_records WHERE record_id = ?1")?
                .query_row([&r.record_id], |x| x.get(0))
                .optional()?;
            // A reopened visit that was never exported signed is not a record.
            let new_reopened = stored.is_none() && r.state == RecordState::Reopened;
            if stored.as_deref() != Some(body.as_str()) && !new_reopened {
                tx.prepare_cached(
                    "INSERT INTO export_records(record_id, seq, body) VALUES (?1, ?2, ?3)
                     ON CONFLICT(record_id) DO UPDATE SET seq = excluded.seq, body = excluded.body",
                )?
                .execute(params![r.record_id, seq, body])?;
            }
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
                enqueue(tx, &event, &order.order_id, at_ms)?;
            }
        }
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
    tx: &Transaction<'_>,
    event: &WebhookEvent,
    ordering_key: &str,
    now_ms: i64,
) -> Result<(), StorageError> {
    let body = serde_json::to_string(event).expect("an event serialises");
    tx.execute(
        "INSERT INTO outbox_events(event_id, kind, ordering_key, body, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![event.id, event.what.kind(), ordering_key, body, now_ms],
    )?;
    let row = tx.last_insert_rowid();
    tx.execute(
        "INSERT INTO deliveries(event, destination, ordering_key, state, next_attempt_ms)
         SELECT ?1, 'webhook:' || id, ?2, 'pending', ?3 FROM webhooks WHERE removed_at_ms IS NULL",
        params![row, ordering_key, now_ms],
    )?;
    Ok(())
}

/// Rebuild the facts and snapshots of every stored order, without events (the migration).
pub(super) fn backfill(tx: &Transaction<'_>) -> Result<(), StorageError> {
    let rows: Vec<(String, i64)> = tx
        .prepare("SELECT doc_id, updated_seq FROM docs WHERE doc_id LIKE 'order:%'")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (doc_id, seq) in rows {
        let id = doc_id.trim_start_matches("order:").to_owned();
        let newest: i64 = tx.query_row(
            "SELECT COALESCE(MAX(updated_seq), ?2) FROM docs WHERE doc_id LIKE ?1",
            params![format!("visit:{id}:%"), seq],
            |r| r.get(0),
        )?;
        record_outward(
            tx,
            &BTreeSet::from([id]),
            &Written::nothing(),
            newest.max(seq),
            0,
            false,
        )?;
    }
    Ok(())
}

fn scopes_text(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn api_token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(ApiToken, String)> {
    Ok((
        ApiToken {
            id: r.get(0)?,
            name: r.get(1)?,
            token_sha256: r.get(2)?,
            scopes: Vec::new(),
            created_at_ms: r.get(4)?,
            revoked_at_ms: r.get(5)?,
        },
        r.get(3)?,
    ))
}

fn finish_api_token((mut t, scopes): (ApiToken, String)) -> Result<ApiToken, StorageError> {
    t.scopes = scopes
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(StorageError::Corrupt))
        .collect::<Result<_, _>>()?;
    Ok(t)
}

const API_TOKEN_COLUMNS: &str = "id, name, token_sha256, scopes, created_at_ms, revoked_at_ms";

impl ApiTokenStore for SqliteStorage {
    fn add_api_token(&self, t: &ApiToken) -> Result<(), StorageError> {
        self.conn()?.execute(
            "INSERT INTO api_tokens(id, name, token_sha256, scopes, created_at_ms, revoked_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![t.id, t.name, t.token_sha256, scopes_text(&t.scopes), t.created_at_ms, t.revoked_at_ms],
        )?;
        Ok(())
    }

    fn api_token_by_hash(&self, token_sha256: &str) -> Result<Option<ApiToken>, StorageError> {
        self.conn()?
            .query_row(
                &format!("SELECT {API_TOKEN_COLUMNS} FROM api_tokens WHERE token_sha256 = ?1"),
                [token_sha256],
                api_token_row,
            )
            .optional()?
            .map(finish_api_token)
            .transpose()
    }

    fn api_tokens(&self) -> Result<Vec<ApiToken>, StorageError> {
        let conn = self.conn()?;
        let mut st = conn.prepare(&format!(
            "SELECT {API_TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at_ms, id"
        ))?;
        let rows = st.query_map([], api_token_row)?;
        rows.map(|r| finish_api_token(r?)).collect()
    }

    fn revoke_api_token(&self, id: &str, now_ms: i64) -> Result<bool, StorageError> {
        Ok(self.conn()?.execute(
            "UPDATE api_tokens SET revoked_at_ms = ?2 WHERE id = ?1 AND revoked_at_ms IS NULL",
            params![id, now_ms],
        )? > 0)
    }
}

impl RecordExport for SqliteStorage {
    fn exported_records(
        &self,
        after: Option<&Position>,
        limit: usize,
    ) -> Result<Vec<Stamped>, StorageError> {
        let conn = self.conn()?;
        let (seq, id) = after.map_or((-1, String::new()), |p| (p.seq as i64, p.record_id.clone()));
        let mut st = conn.prepare_cached(
            "SELECT seq, record_id, body FROM export_records
             WHERE seq > ?1 OR (seq = ?1 AND record_id > ?2)
             ORDER BY seq, record_id LIMIT ?3",
        )?;
        let rows = st.query_map(params![seq, id, limit as i64], |r| {
            Ok(Stamped {
                at: Position {
                    seq: r.get::<_, i64>(0)? as u64,
                    record_id: r.get(1)?,
                },
                body: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl OutboxStore for SqliteStorage {
    fn add_webhook(&self, url: &str, secret: &[u8], now_ms: i64) -> Result<i64, StorageError> {
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO webhooks(url, secret, created_at_ms) VALUES (?1, ?2, ?3)",
            params![url, secret, now_ms],
        )?;
        Ok(conn.last_insert_rowid())
    }

    fn webhooks(&self) -> Result<Vec<Webhook>, StorageError> {
        let conn = self.conn()?;
        let mut st =
            conn.prepare("SELECT id, url, created_at_ms, removed_at_ms FROM webhooks ORDER BY id")?;
        let rows = st.query_map([], |r| {
            Ok(Webhook {
                id: r.get(0)?,
                url: r.get(1)?,
                created_at_ms: r.get(2)?,
                removed_at_ms: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn remove_webhook(&self, id: i64, now_ms: i64) -> Result<bool, StorageError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let removed = tx.execute(
            "UPDATE webhooks SET removed_at_ms = ?2 WHERE id = ?1 AND removed_at_ms IS NULL",
            params![id, now_ms],
        )? > 0;
        tx.execute(
            "UPDATE deliveries SET state = 'cancelled' WHERE destination = ?1 AND state = 'pending'",
            [format!("webhook:{id}")],
        )?;
        tx.commit()?;
        Ok(removed)
    }

    fn recover_in_flight(&self, now_ms: i64) -> Result<usize, StorageError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE delivery_attempts SET outcome = 'interrupted', finished_at_ms = ?1,
               error = 'the relay stopped during this attempt; sent again'
             WHERE outcome = 'in_flight'",
            [now_ms],
        )?;
        tx.execute(
            "UPDATE deliveries SET in_flight = 0, next_attempt_ms = ?1 WHERE in_flight = 1",
            [now_ms],
        )?;
        tx.commit()?;
        Ok(n)
    }

    fn claim_due(&self, now_ms: i64, limit: usize) -> Result<Vec<Due>, StorageError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let rows = {
            let mut st = tx.prepare_cached(
                "SELECT d.event, d.destination, d.attempts, e.event_id, e.body, e.created_at_ms, w.url, w.secret
                 FROM deliveries d JOIN outbox_events e ON e.id = d.event
                 LEFT JOIN webhooks w ON d.destination = 'webhook:' || w.id
                 WHERE d.state = 'pending' AND d.in_flight = 0 AND d.next_attempt_ms <= ?1
                   AND NOT EXISTS (SELECT 1 FROM deliveries p
                     WHERE p.destination = d.destination AND p.ordering_key = d.ordering_key
                       AND p.state = 'pending' AND p.event < d.event)
                 ORDER BY d.event LIMIT ?2",
            )?;
            st.query_map(params![now_ms, limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<Vec<u8>>>(7)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?
        };
        let mut out = Vec::new();
        for (event, dest, attempts, event_id, body, created, url, secret) in rows {
            let attempt = attempts + 1;
            tx.execute(
                "UPDATE deliveries SET in_flight = 1, attempts = ?3 WHERE event = ?1 AND destination = ?2",
                params![event, dest, attempt],
            )?;
            tx.execute(
                "INSERT INTO delivery_attempts(event, destination, attempt, started_at_ms, outcome)
                 VALUES (?1, ?2, ?3, ?4, 'in_flight')",
                params![event, dest, attempt, now_ms],
            )?;
            out.push(Due {
                event,
                event_id,
                body,
                event_created_at_ms: created,
                destination: Destination::from_stored(&dest, url, secret)?,
                attempt,
                attempt_row: tx.last_insert_rowid(),
            });
        }
        tx.commit()?;
        Ok(out)
    }

    fn finish_attempt(
        &self,
        due: &Due,
        sent: &Sent,
        next: &Next,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let (outcome, status, error) = match sent {
            Sent::Delivered { status } => ("delivered", *status, None),
            Sent::Failed { status, error } => ("failed", *status, Some(error.as_str())),
        };
        tx.execute(
            "UPDATE delivery_attempts SET outcome = ?2, finished_at_ms = ?3, http_status = ?4, error = ?5
             WHERE id = ?1 AND outcome = 'in_flight'",
            params![due.attempt_row, outcome, now_ms, status, error],
        )?;
        let (state, at) = match next {
            Next::Delivered => ("delivered", now_ms),
            Next::RetryAt(at) => ("pending", *at),
            Next::GiveUp => ("gave_up", now_ms),
        };
        tx.execute(
            "UPDATE deliveries SET in_flight = 0, state = CASE WHEN state = 'pending' THEN ?3 ELSE state END,
               next_attempt_ms = ?4
             WHERE event = ?1 AND destination = ?2",
            params![due.event, due.destination.stored_text(), state, at],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn next_due_ms(&self) -> Result<Option<i64>, StorageError> {
        Ok(self.conn()?.query_row(
            "SELECT MIN(next_attempt_ms) FROM deliveries WHERE state = 'pending' AND in_flight = 0",
            [],
            |r| r.get(0),
        )?)
    }

    fn delivery_log(&self, webhook: Option<i64>) -> Result<Vec<Attempt>, StorageError> {
        let conn = self.conn()?;
        let mut st = conn.prepare(
            "SELECT e.event_id, e.kind, e.ordering_key, a.destination, a.attempt, a.started_at_ms,
                    a.finished_at_ms, a.outcome, a.http_status, a.error
             FROM delivery_attempts a JOIN outbox_events e ON e.id = a.event
             WHERE ?1 IS NULL OR a.destination = ?1 ORDER BY a.id",
        )?;
        let rows = st.query_map([webhook.map(|w| format!("webhook:{w}"))], |r| {
            Ok(Attempt {
                event_id: r.get(0)?,
                kind: r.get(1)?,
                ordering_key: r.get(2)?,
                destination: r.get(3)?,
                attempt: r.get(4)?,
                started_at_ms: r.get(5)?,
                finished_at_ms: r.get(6)?,
                outcome: r.get(7)?,
                http_status: r.get(8)?,
                error: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
