//! The SQLite side of the job index ([`crate::history`]): `jobs`, one row per order, written in the
//! commit's transaction; the snapshot listing of a partial replica and the history search read
//! it.

use onsite_domain::DocId;
use onsite_wire::HistoryJob;
use rusqlite::{Connection, Transaction, params};

use onsite_sync::snapshot::KeyRange;

use crate::history::{Ask, Found, JobRow};
use crate::storage::StorageError;
use crate::written::Written;

/// Keep `row` for its order (whose `docs` row the transaction already wrote: its centre is read
/// from there).
pub(super) fn upsert(tx: &Connection, row: &JobRow) -> Result<(), StorageError> {
    tx.prepare_cached(
        "INSERT INTO jobs(order_id, centre, settled, last_activity_ms, order_no, customer_name, phone, household_id)
         VALUES (?1, (SELECT centre FROM docs WHERE doc_id = 'order:' || ?1), ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(order_id) DO UPDATE SET centre = excluded.centre, settled = excluded.settled,
           last_activity_ms = excluded.last_activity_ms, order_no = excluded.order_no,
           customer_name = excluded.customer_name, phone = excluded.phone,
           household_id = excluded.household_id",
    )?
    .execute(params![
        row.order_id,
        row.settled,
        row.last_activity_ms,
        row.order_no,
        row.customer_name,
        row.phone,
        row.household_id
    ])?;
    Ok(())
}

/// Index every stored order (the migration that adds the table).
pub(super) fn backfill(tx: &Transaction<'_>) -> Result<(), StorageError> {
    let orders: Vec<String> = tx
        .prepare("SELECT substr(doc_id, 7) FROM docs WHERE doc_id LIKE 'order:%'")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for order_id in orders {
        if let Some((order, visits)) =
            super::back_office::load_order(tx, &order_id, &Written::nothing())?
        {
            upsert(tx, &JobRow::of(&order, &visits))?;
        }
    }
    Ok(())
}

/// [`onsite_sync::relay::DocStore::window_docs`] on SQLite: [`WINDOW`] in text-id order.
pub(super) fn window_docs(
    conn: &Connection,
    centre: Option<&str>,
    cutoff_ms: i64,
    range: KeyRange<'_>,
    limit: usize,
) -> Result<Vec<DocId>, StorageError> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT d.doc_id {WINDOW} ORDER BY d.doc_id LIMIT ?5"
    ))?;
    let rows = st.query_map(
        params![range.after, centre, cutoff_ms, range.below, limit as i64],
        |r| r.get::<_, String>(0),
    )?;
    rows.map(|r| super::parse_doc_id(&r?)).collect()
}

/// [`onsite_sync::relay::DocStore::window_count`] on SQLite.
pub(super) fn window_count(
    conn: &Connection,
    centre: Option<&str>,
    cutoff_ms: i64,
    range: KeyRange<'_>,
) -> Result<u64, StorageError> {
    let n: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) {WINDOW}"))?
        .query_row(params![range.after, centre, cutoff_ms, range.below], |r| {
            r.get(0)
        })?;
    Ok(n as u64)
}

/// The documents a partial replica holds, between `?1` and `?4`, of centre `?2`, with the
/// window's cutoff `?3`: a document's job row is found by its governing order (`order:<id>`,
/// `visit:<id>:<technician>`); documents outside jobs, and of orders without a row, are held.
const WINDOW: &str = "FROM docs d
     LEFT JOIN jobs j ON j.order_id = CASE
         WHEN d.doc_id LIKE 'order:%' THEN substr(d.doc_id, 7)
         WHEN d.doc_id LIKE 'visit:%' THEN substr(d.doc_id, 7, instr(substr(d.doc_id, 7), ':') - 1)
       END
     WHERE d.doc_id > ?1 AND d.doc_id < ?4
       AND (?2 IS NULL OR d.centre = ?2 OR d.centre IS NULL)
       AND (j.order_id IS NULL OR j.settled = 0 OR j.last_activity_ms >= ?3)";

/// The jobs `ask` finds in `centre` (`None`: every centre), newest activity first, at most
/// `limit`, each with its order and visits.
pub(super) fn search(
    conn: &Connection,
    centre: Option<&str>,
    ask: &Ask,
    limit: usize,
) -> Result<Vec<Found>, StorageError> {
    const COLUMNS: &str =
        "order_id, order_no, customer_name, household_id, settled, last_activity_ms, centre";
    let filter = "(?1 IS NULL OR centre = ?1)";
    let (sql, args): (String, Vec<Option<String>>) = match ask {
        Ask::Household(h) => (
            format!(
                "SELECT {COLUMNS} FROM jobs WHERE {filter} AND household_id = ?2 ORDER BY last_activity_ms DESC LIMIT ?3"
            ),
            vec![Some(h.clone())],
        ),
        Ask::Text {
            order_no,
            phone,
            name,
        } => (
            format!(
                "SELECT {COLUMNS} FROM jobs WHERE {filter} AND (order_no = ?2 OR phone = ?3 OR instr(customer_name, ?4) > 0) ORDER BY last_activity_ms DESC LIMIT ?5"
            ),
            vec![Some(order_no.clone()), phone.clone(), Some(name.clone())],
        ),
    };
    let mut values: Vec<Box<dyn rusqlite::ToSql>> = vec![Box::new(centre.map(str::to_owned))];
    values.extend(
        args.into_iter()
            .map(|a| Box::new(a) as Box<dyn rusqlite::ToSql>),
    );
    values.push(Box::new(limit as i64));
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(rusqlite::params_from_iter(values.iter()), |r| {
        Ok((
            HistoryJob {
                order_id: r.get(0)?,
                order_no: r.get(1)?,
                customer_name: r.get(2)?,
                household_id: r.get(3)?,
                settled: r.get(4)?,
                last_activity_ms: r.get(5)?,
                docs: Vec::new(),
            },
            r.get::<_, Option<String>>(6)?,
        ))
    })?;
    let mut found = Vec::new();
    for row in rows {
        let (mut job, centre) = row?;
        job.docs = job_docs(conn, &job.order_id)?;
        found.push(Found { job, centre });
    }
    Ok(found)
}

/// The order and its stored visits.
fn job_docs(conn: &Connection, order_id: &str) -> Result<Vec<DocId>, StorageError> {
    let mut docs = vec![DocId::Order(order_id.to_owned())];
    docs.extend(super::visit_ids(conn, order_id)?);
    Ok(docs)
}
