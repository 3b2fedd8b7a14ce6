//! The PostgreSQL side of the job index ([`crate::history`]): `jobs`, one row per order, written
//! in the committing transaction; the snapshot listing of a partial replica and the history search
//! read it.

use onsite_domain::DocId;
use onsite_wire::HistoryJob;
use postgres::types::ToSql;
use postgres::{Client, GenericClient};

use super::parse_doc_id;
use onsite_sync::snapshot::KeyRange;

use crate::history::{Ask, Found, JobRow};
use crate::storage::StorageError;
use crate::written::Written;

/// Keep `row` for its order (whose `docs` row the transaction already wrote: its centre is read
/// from there).
pub(super) fn upsert(client: &mut impl GenericClient, row: &JobRow) -> Result<(), StorageError> {
    client.execute(
        "INSERT INTO jobs(order_id, centre, settled, last_activity_ms, order_no, customer_name, phone, household_id)
         VALUES ($1, (SELECT centre FROM docs WHERE doc_id = 'order:' || $1), $2, $3, $4, $5, $6, $7)
         ON CONFLICT(order_id) DO UPDATE SET centre = excluded.centre, settled = excluded.settled,
           last_activity_ms = excluded.last_activity_ms, order_no = excluded.order_no,
           customer_name = excluded.customer_name, phone = excluded.phone,
           household_id = excluded.household_id",
        &[
            &row.order_id,
            &row.settled,
            &row.last_activity_ms,
            &row.order_no,
            &row.customer_name,
            &row.phone,
            &row.household_id,
        ],
    )?;
    Ok(())
}

/// Index every stored order (after the migration that adds the table, in its transaction).
pub(super) fn backfill(client: &mut impl GenericClient) -> Result<(), StorageError> {
    let orders: Vec<String> = client
        .query(
            "SELECT substr(doc_id, 7) FROM docs WHERE doc_id LIKE 'order:%'",
            &[],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for order_id in orders {
        if let Some((order, visits)) =
            super::outward::load_order(client, &order_id, &Written::nothing())?
        {
            upsert(client, &JobRow::of(&order, &visits))?;
        }
    }
    Ok(())
}

/// [`onsite_sync::relay::DocStore::window_docs`] on PostgreSQL: [`WINDOW`] in text-id order
/// (`doc_id` compares bytewise, as in SQLite, so a position means the same on both).
pub(super) fn window_docs(
    client: &mut Client,
    centre: Option<&str>,
    cutoff_ms: i64,
    range: KeyRange<'_>,
    limit: usize,
) -> Result<Vec<DocId>, StorageError> {
    let rows = client.query(
        &format!("SELECT d.doc_id {WINDOW} ORDER BY d.doc_id LIMIT $5"),
        &[
            &range.after,
            &centre,
            &cutoff_ms,
            &range.below,
            &(limit as i64),
        ],
    )?;
    rows.iter().map(|r| parse_doc_id(r.get(0))).collect()
}

/// [`onsite_sync::relay::DocStore::window_count`] on PostgreSQL.
pub(super) fn window_count(
    client: &mut Client,
    centre: Option<&str>,
    cutoff_ms: i64,
    range: KeyRange<'_>,
) -> Result<u64, StorageError> {
    let n: i64 = client
        .query_one(
            &format!("SELECT COUNT(*) {WINDOW}"),
            &[&range.after, &centre, &cutoff_ms, &range.below],
        )?
        .get(0);
    Ok(n as u64)
}

/// The documents a partial replica holds, between `$1` and `$4`, of centre `$2`, with the
/// window's cutoff `$3` (see the SQLite twin in `sqlite/jobs.rs`).
const WINDOW: &str = "FROM docs d
     LEFT JOIN jobs j ON j.order_id = CASE
         WHEN d.doc_id LIKE 'order:%' THEN substr(d.doc_id, 7)
         WHEN d.doc_id LIKE 'visit:%' THEN split_part(substr(d.doc_id, 7), ':', 1)
       END
     WHERE d.doc_id > $1 AND d.doc_id < $4
       AND ($2::TEXT IS NULL OR d.centre = $2 OR d.centre IS NULL)
       AND (j.order_id IS NULL OR NOT j.settled OR j.last_activity_ms >= $3)";

/// The jobs `ask` finds in `centre` (`None`: every centre), newest activity first, at most
/// `limit`, each with its order and visits.
pub(super) fn search(
    client: &mut Client,
    centre: Option<&str>,
    ask: &Ask,
    limit: usize,
) -> Result<Vec<Found>, StorageError> {
    const COLUMNS: &str =
        "order_id, order_no, customer_name, household_id, settled, last_activity_ms, centre";
    let centre = centre.map(str::to_owned);
    let limit = limit as i64;
    let rows = match ask {
        Ask::Household(h) => client.query(
            &format!("SELECT {COLUMNS} FROM jobs WHERE ($1::TEXT IS NULL OR centre = $1) AND household_id = $2 ORDER BY last_activity_ms DESC LIMIT $3"),
            &[&centre as &(dyn ToSql + Sync), h, &limit],
        )?,
        Ask::Text { order_no, phone, name } => client.query(
            &format!("SELECT {COLUMNS} FROM jobs WHERE ($1::TEXT IS NULL OR centre = $1) AND (order_no = $2 OR phone = $3 OR strpos(customer_name, $4) > 0) ORDER BY last_activity_ms DESC LIMIT $5"),
            &[&centre, order_no, phone, name, &limit],
        )?,
    };
    let mut found = Vec::new();
    for r in rows {
        let order_id: String = r.get(0);
        let docs = job_docs(client, &order_id)?;
        found.push(Found {
            job: HistoryJob {
                order_id,
                order_no: r.get(1),
                customer_name: r.get(2),
                household_id: r.get(3),
                settled: r.get(4),
                last_activity_ms: r.get(5),
                docs,
            },
            centre: r.get(6),
        });
    }
    Ok(found)
}

/// The order and its stored visits.
fn job_docs(client: &mut Client, order_id: &str) -> Result<Vec<DocId>, StorageError> {
    let mut docs = vec![DocId::Order(order_id.to_owned())];
    docs.extend(super::outward::visit_ids(client, order_id)?);
    Ok(docs)
}
