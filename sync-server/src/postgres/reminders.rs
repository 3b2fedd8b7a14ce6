//! The PostgreSQL side of the reminders task ([`crate::reminders`]): `reminder_checks`, one row
//! per household saying when to look at it again, marked in the committing transaction; the
//! task's reads of one household's documents; the outbox rows it enqueues.

use onsite_domain::DocId;
use onsite_sync::relay::DocWrite;
use onsite_wire::back_office::CustomerMessage;
use postgres::GenericClient;

use super::PostgresStorage;
use crate::history::JobRow;
use crate::reminders::{Check, Outcome, ReminderStore};
use crate::storage::{DocBytes, StorageError};

/// Look at `household_id` at the next pass.
fn mark(client: &mut impl GenericClient, household_id: &str) -> Result<(), StorageError> {
    client.execute(
        "INSERT INTO reminder_checks(household_id, check_at_ms, generation) VALUES ($1, 0, 1)
         ON CONFLICT(household_id) DO UPDATE
           SET check_at_ms = 0, generation = reminder_checks.generation + 1",
        &[&household_id],
    )?;
    Ok(())
}

/// Mark the households the commit writes, and every household when it writes the service
/// settings (the intervals changed).
pub(super) fn mark_written(
    client: &mut impl GenericClient,
    writes: &[DocWrite],
) -> Result<(), StorageError> {
    for w in writes {
        match &w.doc {
            DocId::Household(h) => mark(client, h)?,
            DocId::ServiceSettings => {
                client.execute(
                    "UPDATE reminder_checks SET check_at_ms = 0, generation = generation + 1",
                    &[],
                )?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Mark the household of a job the commit touched (and the one it belonged to before, if the
/// order moved); called before the job's row is written.
pub(super) fn mark_job(client: &mut impl GenericClient, row: &JobRow) -> Result<(), StorageError> {
    let before: Option<String> = client
        .query_opt(
            "SELECT household_id FROM jobs WHERE order_id = $1",
            &[&row.order_id],
        )?
        .map(|r| r.get(0));
    if let Some(before) = before.filter(|b| *b != row.household_id) {
        mark(client, &before)?;
    }
    mark(client, &row.household_id)
}

impl ReminderStore for PostgresStorage {
    fn reminder_checks(
        &self,
        now_ms: i64,
        after: &str,
        limit: usize,
    ) -> Result<Vec<Check>, StorageError> {
        self.with(|c| {
            let rows = c.query(
                "SELECT household_id, generation FROM reminder_checks
                 WHERE check_at_ms <= $1 AND household_id > $2 ORDER BY household_id LIMIT $3",
                &[&now_ms, &after, &(limit as i64)],
            )?;
            Ok(rows
                .iter()
                .map(|r| Check {
                    household_id: r.get(0),
                    generation: r.get(1),
                })
                .collect())
        })
    }

    fn household_docs(&self, household_id: &str) -> Result<Vec<DocBytes>, StorageError> {
        self.with(|c| {
            let rows = c.query(
                "SELECT d.doc_id, d.bytes FROM docs d WHERE d.doc_id = 'household:' || $1
                 UNION ALL
                 SELECT d.doc_id, d.bytes FROM jobs j JOIN docs d
                   ON d.doc_id = 'order:' || j.order_id
                   OR (d.doc_id >= 'visit:' || j.order_id || ':'
                       AND d.doc_id < 'visit:' || j.order_id || ';')
                 WHERE j.household_id = $1
                 ORDER BY 1",
                &[&household_id],
            )?;
            rows.iter()
                .map(|r| {
                    Ok(DocBytes {
                        doc: super::parse_doc_id(r.get(0))?,
                        bytes: r.get(1),
                    })
                })
                .collect()
        })
    }

    fn record_looks(&self, looks: &[Outcome], now_ms: i64) -> Result<Vec<bool>, StorageError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let mut new = Vec::new();
            for look in looks {
                for (key, m) in &look.messages {
                    new.push(enqueue(&mut tx, key, m, now_ms)?);
                }
                tx.execute(
                    "UPDATE reminder_checks SET check_at_ms = $3
                     WHERE household_id = $1 AND generation = $2",
                    &[
                        &look.check.household_id,
                        &look.check.generation,
                        &look.next_ms,
                    ],
                )?;
            }
            tx.commit()?;
            Ok(new)
        })
    }
}

/// Enqueue `m` for the message sender unless one with `unique_key` was; whether it is new.
fn enqueue(
    tx: &mut postgres::Transaction<'_>,
    unique_key: &str,
    m: &CustomerMessage,
    now_ms: i64,
) -> Result<bool, StorageError> {
    let body = serde_json::to_string(m).expect("a message serialises");
    let row = tx.query_opt(
        "INSERT INTO outbox_events(event_id, unique_key, kind, ordering_key, body, created_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT(unique_key) DO NOTHING RETURNING id",
        &[&m.id, &unique_key, &m.kind, &m.household_id, &body, &now_ms],
    )?;
    if let Some(row) = &row {
        tx.execute(
            "INSERT INTO deliveries(event, destination, ordering_key, state, next_attempt_ms)
             VALUES ($1, 'messages', $2, 'pending', $3)",
            &[&row.get::<_, i64>(0), &m.household_id, &now_ms],
        )?;
    }
    Ok(row.is_some())
}
