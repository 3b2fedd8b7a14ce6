//! The feed index: for every stored change, the technicians whose feed lists it
//! (`feed(reader, seq, doc_id)`, `reader = '*'` for every technician) and the centre whose
//! dispatchers' feed lists it (`@<centre>`, `@*` for a company-wide document:
//! [`FeedReader::keys`]). A technician's or a dispatcher's feed reads its own rows instead of
//! every change of every device since its cursor — with a thousand devices syncing, that scan was
//! most of each request (docs/benchmarks.md, the relay under load); with many centres, a
//! dispatcher reads only their own. Who reads what is decided once, by [`technician_readers`]
//! and the document's centre; the feed answer still checks current access for every document
//! it sends.

use onsite_domain::DocId;
use onsite_sync::access::{OrderFacts, Readers, governing_order, technician_readers};
use onsite_sync::relay::{EVERY_TECHNICIAN, FeedEntry, FeedReader, centre_key};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::storage::StorageError;

/// Record that the change numbered `seq` of `doc` is listed in `readers`' feeds and in the feed
/// of `centre`'s dispatchers (`None`: every centre's).
pub(super) fn insert(
    tx: &Connection,
    seq: i64,
    doc: &str,
    readers: &Readers,
    centre: Option<&str>,
) -> Result<(), StorageError> {
    tx.prepare_cached("INSERT OR IGNORE INTO feed(reader, seq, doc_id) VALUES (?1, ?2, ?3)")?
        .execute(params![centre_key(centre), seq, doc])?;
    insert_technicians(tx, seq, doc, readers)
}

/// Record that the change numbered `seq` of `doc` is listed in `readers`' feeds.
fn insert_technicians(
    tx: &Connection,
    seq: i64,
    doc: &str,
    readers: &Readers,
) -> Result<(), StorageError> {
    let mut st =
        tx.prepare_cached("INSERT OR IGNORE INTO feed(reader, seq, doc_id) VALUES (?1, ?2, ?3)")?;
    match readers {
        Readers::AllTechnicians => {
            st.execute(params![EVERY_TECHNICIAN, seq, doc])?;
        }
        Readers::Technicians(ts) => {
            for t in ts {
                st.execute(params![t, seq, doc])?;
            }
        }
    }
    Ok(())
}

/// [`onsite_sync::relay::DocStore::feed_changes`] on SQLite: every reader's from `changes`, a
/// reader's from its two keys' rows of the index, each key read in order up to `limit` and the
/// two merged, so no more than a page's worth is read however long the feed.
pub(super) fn changes(
    conn: &Connection,
    reader: Option<FeedReader<'_>>,
    after: u64,
    upto: u64,
    limit: usize,
) -> Result<Vec<FeedEntry>, StorageError> {
    let (after, upto, limit) = (after as i64, upto as i64, limit as i64);
    let read = |r: &rusqlite::Row<'_>| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?));
    let rows: Vec<(i64, String)> = match reader {
        None => conn
            .prepare_cached(
                "SELECT seq, doc_id FROM changes WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
            )?
            .query_map(params![after, upto, limit], read)?
            .collect::<Result<_, _>>()?,
        Some(reader) => {
            let [own, shared] = reader.keys();
            conn.prepare_cached(
                "SELECT seq, doc_id FROM (SELECT seq, doc_id FROM feed
                     WHERE reader = ?1 AND seq > ?3 AND seq <= ?4 ORDER BY seq LIMIT ?5)
                 UNION ALL
                 SELECT seq, doc_id FROM (SELECT seq, doc_id FROM feed
                     WHERE reader = ?2 AND seq > ?3 AND seq <= ?4 ORDER BY seq LIMIT ?5)
                 ORDER BY seq LIMIT ?5",
            )?
            .query_map(params![own, shared, after, upto, limit], read)?
            .collect::<Result<_, _>>()?
        }
    };
    rows.into_iter()
        .map(|(seq, doc)| {
            Ok(FeedEntry {
                doc: super::parse_doc_id(&doc)?,
                seq: seq as u64,
            })
        })
        .collect()
}

/// Index every change stored before the feed index existed, by the facts its governing order
/// has now (the feed answer checks current access anyway, and a technician granted an order
/// later receives it whole).
pub(super) fn backfill(tx: &Transaction<'_>) -> Result<(), StorageError> {
    let changes: Vec<(i64, String)> = tx
        .prepare("SELECT seq, doc_id FROM changes ORDER BY seq")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (seq, doc) in changes {
        let id = super::parse_doc_id(&doc)?;
        let facts = match governing_order(&id) {
            Some(order) => order_facts(tx, order)?,
            None => None,
        };
        insert_technicians(tx, seq, &doc, &technician_readers(&id, facts.as_ref()))?;
    }
    Ok(())
}

fn order_facts(tx: &Transaction<'_>, order_id: &str) -> Result<Option<OrderFacts>, StorageError> {
    let row: Option<(Option<String>, Option<String>, Option<String>)> = tx
        .prepare_cached("SELECT order_no, assignee, assignees_ever FROM docs WHERE doc_id = ?1")?
        .query_row([DocId::Order(order_id.to_owned()).to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    Ok(row.and_then(|(no, assignee, ever)| super::order_facts(no, assignee, ever)))
}
