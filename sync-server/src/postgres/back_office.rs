//! The PostgreSQL side of what the relay gives the systems around it: API tokens, the records
//! export's snapshots, the outbox (webhooks, events, deliveries, attempts) and the reminders'
//! messages. Several instances share the outbox: a due delivery is claimed by one of them
//! (`FOR UPDATE SKIP LOCKED`).

use postgres::Row;

use super::PostgresStorage;
use crate::export::{Position, RecordExport, Stamped};
use crate::outbox::{Attempt, Destination, Due, Next, OutboxStore, Webhook};
use crate::sender::Sent;
use crate::storage::StorageError;
use crate::tokens::{ApiToken, ApiTokenStore, Scope};

const API_TOKEN_COLUMNS: &str = "id, name, token_sha256, scopes, created_at_ms, revoked_at_ms";

fn scopes_text(scopes: &[Scope]) -> String {
    let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    names.join(",")
}

fn api_token_of(r: &Row) -> Result<ApiToken, StorageError> {
    let scopes: String = r.get(3);
    Ok(ApiToken {
        id: r.get(0),
        name: r.get(1),
        token_sha256: r.get(2),
        scopes: scopes
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().map_err(StorageError::Corrupt))
            .collect::<Result<_, _>>()?,
        created_at_ms: r.get(4),
        revoked_at_ms: r.get(5),
    })
}

impl ApiTokenStore for PostgresStorage {
    fn add_api_token(&self, t: &ApiToken) -> Result<(), StorageError> {
        self.with(|c| {
            c.execute(
                &format!(
                    "INSERT INTO api_tokens({API_TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
                ),
                &[
                    &t.id,
                    &t.name,
                    &t.token_sha256,
                    &scopes_text(&t.scopes),
                    &t.created_at_ms,
                    &t.revoked_at_ms,
                ],
            )?;
            Ok(())
        })
    }

    fn api_token_by_hash(&self, token_sha256: &str) -> Result<Option<ApiToken>, StorageError> {
        let sql = format!("SELECT {API_TOKEN_COLUMNS} FROM api_tokens WHERE token_sha256 = $1");
        self.with(|c| {
            c.query_opt(&sql, &[&token_sha256])?
                .map(|r| api_token_of(&r))
                .transpose()
        })
    }

    fn api_tokens(&self) -> Result<Vec<ApiToken>, StorageError> {
        let sql = format!("SELECT {API_TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at_ms, id");
        self.with(|c| c.query(&sql, &[])?.iter().map(api_token_of).collect())
    }

    fn revoke_api_token(&self, id: &str, now_ms: i64) -> Result<bool, StorageError> {
        let sql =
            "UPDATE api_tokens SET revoked_at_ms = $2 WHERE id = $1 AND revoked_at_ms IS NULL";
        self.with(|c| Ok(c.execute(sql, &[&id, &now_ms])? > 0))
    }
}

impl RecordExport for PostgresStorage {
    fn exported_records(
        &self,
        after: Option<&Position>,
        limit: usize,
    ) -> Result<Vec<Stamped>, StorageError> {
        let (seq, id) = after.map_or((-1, String::new()), |p| (p.seq as i64, p.record_id.clone()));
        self.with(|c| {
            let rows = c.query(
                "SELECT seq, record_id, body FROM export_records
                 WHERE seq > $1 OR (seq = $1 AND record_id > $2)
                 ORDER BY seq, record_id LIMIT $3",
                &[&seq, &id, &(limit as i64)],
            )?;
            Ok(rows
                .iter()
                .map(|r| Stamped {
                    at: Position {
                        seq: r.get::<_, i64>(0) as u64,
                        record_id: r.get(1),
                    },
                    body: r.get(2),
                })
                .collect())
        })
    }
}

/// Mark one due delivery (a row of the claiming query) in flight with an attempt row.
fn claim_one(
    tx: &mut postgres::Transaction<'_>,
    r: &Row,
    now_ms: i64,
) -> Result<Due, StorageError> {
    let (event, dest): (i64, String) = (r.get(0), r.get(1));
    let attempt = r.get::<_, i32>(2) + 1;
    tx.execute(
        "UPDATE deliveries SET in_flight = true, attempts = $3 WHERE event = $1 AND destination = $2",
        &[&event, &dest, &attempt],
    )?;
    let attempt_row: i64 = tx
        .query_one(
            "INSERT INTO delivery_attempts(event, destination, attempt, started_at_ms, outcome)
             VALUES ($1, $2, $3, $4, 'in_flight') RETURNING id",
            &[&event, &dest, &attempt, &now_ms],
        )?
        .get(0);
    Ok(Due {
        event,
        event_id: r.get(3),
        body: r.get(4),
        event_created_at_ms: r.get(5),
        destination: Destination::from_stored(&dest, r.get(6), r.get(7))?,
        attempt: attempt as u32,
        attempt_row,
    })
}

impl OutboxStore for PostgresStorage {
    fn add_webhook(&self, url: &str, secret: &[u8], now_ms: i64) -> Result<i64, StorageError> {
        self.with(|c| {
            let sql =
                "INSERT INTO webhooks(url, secret, created_at_ms) VALUES ($1, $2, $3) RETURNING id";
            Ok(c.query_one(sql, &[&url, &secret, &now_ms])?.get(0))
        })
    }

    fn webhooks(&self) -> Result<Vec<Webhook>, StorageError> {
        self.with(|c| {
            let rows = c.query(
                "SELECT id, url, created_at_ms, removed_at_ms FROM webhooks ORDER BY id",
                &[],
            )?;
            Ok(rows
                .iter()
                .map(|r| Webhook {
                    id: r.get(0),
                    url: r.get(1),
                    created_at_ms: r.get(2),
                    removed_at_ms: r.get(3),
                })
                .collect())
        })
    }

    fn remove_webhook(&self, id: i64, now_ms: i64) -> Result<bool, StorageError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let removed = tx.execute(
                "UPDATE webhooks SET removed_at_ms = $2 WHERE id = $1 AND removed_at_ms IS NULL",
                &[&id, &now_ms],
            )? > 0;
            tx.execute(
                "UPDATE deliveries SET state = 'cancelled' WHERE destination = $1 AND state = 'pending'",
                &[&format!("webhook:{id}")],
            )?;
            tx.commit()?;
            Ok(removed)
        })
    }

    fn recover_in_flight(&self, now_ms: i64) -> Result<usize, StorageError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE delivery_attempts SET outcome = 'interrupted', finished_at_ms = $1,
                   error = 'the relay stopped during this attempt; sent again'
                 WHERE outcome = 'in_flight'",
                &[&now_ms],
            )?;
            tx.execute(
                "UPDATE deliveries SET in_flight = false, next_attempt_ms = $1 WHERE in_flight",
                &[&now_ms],
            )?;
            tx.commit()?;
            Ok(n as usize)
        })
    }

    fn claim_due(&self, now_ms: i64, limit: usize) -> Result<Vec<Due>, StorageError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let rows = tx.query(
                "SELECT d.event, d.destination, d.attempts, e.event_id, e.body, e.created_at_ms, w.url, w.secret
                 FROM deliveries d JOIN outbox_events e ON e.id = d.event
                 LEFT JOIN webhooks w ON d.destination = 'webhook:' || w.id
                 WHERE d.state = 'pending' AND NOT d.in_flight AND d.next_attempt_ms <= $1
                   AND NOT EXISTS (SELECT 1 FROM deliveries p
                     WHERE p.destination = d.destination AND p.ordering_key = d.ordering_key
                       AND p.state = 'pending' AND p.event < d.event)
                 ORDER BY d.event LIMIT $2
                 FOR UPDATE OF d SKIP LOCKED",
                &[&now_ms, &(limit as i64)],
            )?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push(claim_one(&mut tx, r, now_ms)?);
            }
            tx.commit()?;
            Ok(out)
        })
    }

    fn finish_attempt(
        &self,
        due: &Due,
        sent: &Sent,
        next: &Next,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        let (outcome, status, error) = match sent {
            Sent::Delivered { status } => ("delivered", *status, None),
            Sent::Failed { status, error } => ("failed", *status, Some(error.as_str())),
        };
        let status = status.map(i32::from);
        let (state, at) = match next {
            Next::Delivered => ("delivered", now_ms),
            Next::RetryAt(at) => ("pending", *at),
            Next::GiveUp => ("gave_up", now_ms),
        };
        self.with(|c| {
            let mut tx = c.transaction()?;
            tx.execute(
                "UPDATE delivery_attempts SET outcome = $2, finished_at_ms = $3, http_status = $4, error = $5
                 WHERE id = $1 AND outcome = 'in_flight'",
                &[&due.attempt_row, &outcome, &now_ms, &status, &error],
            )?;
            tx.execute(
                "UPDATE deliveries SET in_flight = false,
                   state = CASE WHEN state = 'pending' THEN $3 ELSE state END, next_attempt_ms = $4
                 WHERE event = $1 AND destination = $2",
                &[&due.event, &due.destination.stored_text(), &state, &at],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    fn next_due_ms(&self) -> Result<Option<i64>, StorageError> {
        self.with(|c| {
            let sql = "SELECT MIN(next_attempt_ms) FROM deliveries WHERE state = 'pending' AND NOT in_flight";
            Ok(c.query_one(sql, &[])?.get(0))
        })
    }

    fn delivery_log(&self, webhook: Option<i64>) -> Result<Vec<Attempt>, StorageError> {
        let destination = webhook.map(|w| format!("webhook:{w}"));
        self.with(|c| {
            let rows = c.query(
                "SELECT e.event_id, e.kind, e.ordering_key, a.destination, a.attempt, a.started_at_ms,
                        a.finished_at_ms, a.outcome, a.http_status, a.error
                 FROM delivery_attempts a JOIN outbox_events e ON e.id = a.event
                 WHERE $1::TEXT IS NULL OR a.destination = $1 ORDER BY a.id",
                &[&destination],
            )?;
            Ok(rows.iter().map(attempt_of).collect())
        })
    }
}

fn attempt_of(r: &Row) -> Attempt {
    Attempt {
        event_id: r.get(0),
        kind: r.get(1),
        ordering_key: r.get(2),
        destination: r.get(3),
        attempt: r.get::<_, i32>(4) as u32,
        started_at_ms: r.get(5),
        finished_at_ms: r.get(6),
        outcome: r.get(7),
        http_status: r.get::<_, Option<i32>>(8).map(|s| s as u16),
        error: r.get(9),
    }
}
