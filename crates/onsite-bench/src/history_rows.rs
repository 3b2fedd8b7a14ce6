//! The relay's rows written directly by the generated history ([`crate::history_gen`]): one
//! change, one feed entry, one job, with the statements the relay's SQLite commit uses.

use onsite_relay::history::JobRow;
use rusqlite::{Transaction, params};

use crate::device_scale::ScaleError;

fn sql(e: rusqlite::Error) -> ScaleError {
    ScaleError::Check(format!("relay database: {e}"))
}

/// Change `seq` of `doc`, as the demo dispatcher's seeding device made it.
pub fn change(
    tx: &Transaction<'_>,
    seq: i64,
    doc: &str,
    hash: &[u8],
    bytes: &[u8],
) -> Result<(), ScaleError> {
    tx.prepare_cached(
        "INSERT INTO changes(seq, doc_id, hash, bytes, user_id, device_id, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut s| {
        s.execute(params![
            seq,
            doc,
            hash,
            bytes,
            onsite_relay::seed::DISPATCHER,
            "history-gen",
            0
        ])
    })
    .map_err(sql)?;
    Ok(())
}

/// Change `seq` of `doc` is listed in `reader`'s feed.
pub fn feed(tx: &Transaction<'_>, reader: &str, seq: i64, doc: &str) -> Result<(), ScaleError> {
    tx.prepare_cached("INSERT OR IGNORE INTO feed(reader, seq, doc_id) VALUES (?1, ?2, ?3)")
        .and_then(|mut s| s.execute(params![reader, seq, doc]))
        .map_err(sql)?;
    Ok(())
}

/// The job index's row (in the default centre).
pub fn job(tx: &Transaction<'_>, row: &JobRow) -> Result<(), ScaleError> {
    tx.prepare_cached(
        "INSERT INTO jobs(order_id, centre, settled, last_activity_ms, order_no, customer_name, phone, household_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut s| {
        s.execute(params![
            row.order_id,
            onsite_relay::storage::DEFAULT_CENTRE,
            row.settled,
            row.last_activity_ms,
            row.order_no,
            row.customer_name,
            row.phone,
            row.household_id
        ])
    })
    .map_err(sql)?;
    Ok(())
}

/// The household is looked at by the relay's next reminders pass, as a commit that writes it
/// marks it.
pub fn reminder_check(tx: &Transaction<'_>, household_id: &str) -> Result<(), ScaleError> {
    tx.prepare_cached(
        "INSERT INTO reminder_checks(household_id, check_at_ms, generation) VALUES (?1, 0, 1)
         ON CONFLICT(household_id) DO UPDATE SET check_at_ms = 0, generation = generation + 1",
    )
    .and_then(|mut s| s.execute([household_id]))
    .map_err(sql)?;
    Ok(())
}
