//! The SQLite side of the reminders task ([`crate::reminders`]): `reminder_checks`, one row per
//! household saying when to look at it again, marked in the committing transaction; the task's
//! reads of one household's documents; the outbox rows it enqueues.

use onsite_domain::DocId;
use onsite_sync::relay::DocWrite;
use onsite_wire::back_office::CustomerMessage;
use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStorage;
use crate::history::JobRow;
use crate::reminders::{Check, Outcome, ReminderStore};
use crate::storage::{DocBytes, StorageError};

/// Look at `household_id` at the next pass.
fn mark(tx: &Connection, household_id: &str) -> Result<(), StorageError> {
    tx.prepare_cached(
        "INSERT INTO reminder_checks(household_id, check_at_ms, generation) VALUES (?1, 0, 1)
         ON CONFLICT(household_id) DO UPDATE SET check_at_ms = 0, generation = generation + 1",
    )?
    .execute([household_id])?;
    Ok(())
}

/// Mark the households the commit writes, and every household when it writes the service
/// settings (the intervals changed).
pub(super) fn mark_written(tx: &Connection, writes: &[DocWrite]) -> Result<(), StorageError> {
    for w in writes {
        match &w.doc {
            DocId::Household(h) => mark(tx, h)?,
            DocId::ServiceSettings => {
                tx.execute(
                    "UPDATE reminder_checks SET check_at_ms = 0, generation = generation + 1",
                    [],
                )?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Mark the household of a job the commit touched (and the one it belonged to before, if the
/// order moved); called before the job's row is written.
pub(super) fn mark_job(tx: &Connection, row: &JobRow) -> Result<(), StorageError> {
    let before: Option<String> = tx
        .prepare_cached("SELECT household_id FROM jobs WHERE order_id = ?1")?
        .query_row([&row.order_id], |r| r.get(0))
        .optional()?;
    if let Some(before) = before.filter(|b| *b != row.household_id) {
        mark(tx, &before)?;
    }
    mark(tx, &row.household_id)
}

fn doc_bytes(conn: &Connection, id: DocId) -> Result<Option<DocBytes>, StorageError> {
    let bytes: Option<Vec<u8>> = conn
        .prepare_cached("SELECT bytes FROM docs WHERE doc_id = ?1")?
        .query_row([id.to_string()], |r| r.get(0))
        .optional()?;
    Ok(bytes.map(|bytes| DocBytes { doc: id, bytes }))
}

impl ReminderStore for SqliteStorage {
    fn reminder_checks(
        &self,
        now_ms: i64,
        after: &str,
        limit: usize,
    ) -> Result<Vec<Check>, StorageError> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached(
            "SELECT household_id, generation FROM reminder_checks
             WHERE check_at_ms <= ?1 AND household_id > ?2 ORDER BY household_id LIMIT ?3",
        )?;
        let rows = st.query_map(params![now_ms, after, limit as i64], |r| {
            Ok(Check {
                household_id: r.get(0)?,
                generation: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn household_docs(&self, household_id: &str) -> Result<Vec<DocBytes>, StorageError> {
        let conn = self.reader()?;
        let orders: Vec<String> = conn
            .prepare_cached("SELECT order_id FROM jobs WHERE household_id = ?1 ORDER BY order_id")?
            .query_map([household_id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut ids = vec![DocId::Household(household_id.to_owned())];
        for order_id in orders {
            let visits = super::visit_ids(&conn, &order_id)?;
            ids.push(DocId::Order(order_id));
            ids.extend(visits);
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(doc_bytes(&conn, id)?);
        }
        Ok(out)
    }

    fn record_looks(&self, looks: &[Outcome], now_ms: i64) -> Result<Vec<bool>, StorageError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let mut new = Vec::new();
        for look in looks {
            for (key, m) in &look.messages {
                new.push(enqueue(&tx, key, m, now_ms)?);
            }
            tx.prepare_cached(
                "UPDATE reminder_checks SET check_at_ms = ?3
                 WHERE household_id = ?1 AND generation = ?2",
            )?
            .execute(params![
                look.check.household_id,
                look.check.generation,
                look.next_ms
            ])?;
        }
        tx.commit()?;
        Ok(new)
    }
}

/// Enqueue `m` for the message sender unless one with `unique_key` was; whether it is new.
fn enqueue(
    tx: &Connection,
    unique_key: &str,
    m: &CustomerMessage,
    now_ms: i64,
) -> Result<bool, StorageError> {
    let body = serde_json::to_string(m).expect("a message serialises");
    let new = tx
        .prepare_cached(
            "INSERT INTO outbox_events(event_id, unique_key, kind, ordering_key, body, created_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(unique_key) DO NOTHING",
        )?
        .execute(params![m.id, unique_key, m.kind, m.household_id, body, now_ms])?
        == 1;
    if new {
        tx.prepare_cached(
            "INSERT INTO deliveries(event, destination, ordering_key, state, next_attempt_ms)
             VALUES (?1, 'messages', ?2, 'pending', ?3)",
        )?
        .execute(params![tx.last_insert_rowid(), m.household_id, now_ms])?;
    }
    Ok(new)
}
