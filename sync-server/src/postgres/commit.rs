//! Storing one request's writes inside the transaction that holds the feed head's lock: new
//! changes numbered from `feed_head`, access events, documents, the back office's snapshots and
//! events, the new head, and the notification other instances receive when it commits.

use std::collections::BTreeSet;

use onsite_domain::DocId;
use onsite_sync::access::{OrderFacts, Readers, governing_order};
use onsite_sync::relay::{DocWrite, EVERY_TECHNICIAN, Origin, centre_key};
use postgres::Client;

use super::docs::{encode_heads, split_ever};
use super::{notify, outward};
use crate::storage::StorageError;
use crate::written::Written;

/// Store `writes` (the caller has begun the transaction and locked `feed_head`) and return the
/// new head. The caller commits.
pub(super) fn write(
    client: &mut Client,
    writes: &[DocWrite],
    written: &Written<'_>,
    origin: &Origin,
    instance: &str,
) -> Result<u64, StorageError> {
    let mut seq: i64 = client
        .query_one("SELECT seq FROM feed_head FOR UPDATE", &[])?
        .get(0);
    for w in writes {
        seq = write_doc(client, w, origin, seq)?;
    }
    client.execute("UPDATE feed_head SET seq = $1", &[&seq])?;
    super::reminders::mark_written(client, writes)?;
    let orders: BTreeSet<String> = writes
        .iter()
        .filter_map(|w| governing_order(&w.doc).map(str::to_owned))
        .collect();
    outward::record(client, &orders, written, seq, origin.at_ms, true)?;
    let committed = notify::Commit {
        from: instance.to_owned(),
        head: seq as u64,
        docs: changed_docs(client, writes)?,
        access_users: writes
            .iter()
            .flat_map(|w| w.access.iter().map(|(u, _)| u.clone()))
            .collect(),
        centres: onsite_sync::relay::centres_of(writes),
    };
    for payload in committed.payloads() {
        client.execute("SELECT pg_notify($1, $2)", &[&notify::CHANNEL, &payload])?;
    }
    Ok(seq as u64)
}

/// One document's new changes (numbered after `seq`), access events and stored form; the last
/// number taken.
fn write_doc(
    client: &mut Client,
    w: &DocWrite,
    origin: &Origin,
    mut seq: i64,
) -> Result<i64, StorageError> {
    let id = w.doc.to_string();
    for c in &w.changes {
        let hash = c.hash.0.as_slice();
        let held = client.query_opt(
            "SELECT 1 FROM changes WHERE doc_id = $1 AND hash = $2",
            &[&id, &hash],
        )?;
        if held.is_some() {
            continue;
        }
        seq += 1;
        feed(client, seq, &id, &w.readers, w.meta.centre.as_deref())?;
        client.execute(
            "INSERT INTO changes(seq, doc_id, hash, bytes, user_id, device_id, at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &seq,
                &id,
                &hash,
                &c.bytes,
                &origin.user_id,
                &origin.device_id,
                &origin.at_ms,
            ],
        )?;
    }
    for (user, granted) in &w.access {
        client.execute(
            "INSERT INTO access_events(seq, user_id, doc_id, granted) VALUES ($1, $2, $3, $4)",
            &[&seq, user, &id, granted],
        )?;
    }
    let o = w.meta.order.as_ref();
    client.execute(
        "INSERT INTO docs(doc_id, bytes, heads, size, order_no, assignee, assignees_ever, updated_seq, record_hash, centre)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT(doc_id) DO UPDATE SET bytes = excluded.bytes, heads = excluded.heads,
           size = excluded.size, order_no = excluded.order_no, assignee = excluded.assignee,
           assignees_ever = excluded.assignees_ever, updated_seq = excluded.updated_seq,
           record_hash = excluded.record_hash",
        &[
            &id,
            &w.bytes,
            &encode_heads(&w.meta.heads),
            &(w.meta.size as i64),
            &o.map(|o| o.order_no.as_str()),
            &o.and_then(|o| o.assignee.as_deref()),
            &o.map(|o| o.assignees_ever.join(",")),
            &seq,
            &w.meta.record_hash,
            &w.meta.centre,
        ],
    )?;
    Ok(seq)
}

/// List the change numbered `seq` of `id` in its readers' feeds and its centre's (the feed
/// index, [`FeedReader::keys`]: a feed reads its own rows, not every change since its cursor).
fn feed(
    client: &mut Client,
    seq: i64,
    id: &str,
    readers: &Readers,
    centre: Option<&str>,
) -> Result<(), StorageError> {
    let mut names = vec![centre_key(centre)];
    match readers {
        Readers::AllTechnicians => names.push(EVERY_TECHNICIAN.to_owned()),
        Readers::Technicians(ts) => names.extend(ts.iter().cloned()),
    }
    for reader in &names {
        client.execute(
            "INSERT INTO feed(reader, seq, doc_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[reader, &seq, &id],
        )?;
    }
    Ok(())
}

/// Each written document with the facts of its governing order after the commit (what a push
/// stream needs to tell whether the commit concerns its device).
fn changed_docs(
    client: &mut Client,
    writes: &[DocWrite],
) -> Result<Vec<(DocId, Option<OrderFacts>)>, StorageError> {
    let mut out = Vec::with_capacity(writes.len());
    for w in writes {
        let facts = match governing_order(&w.doc) {
            None => None,
            Some(_) if matches!(w.doc, DocId::Order(_)) => w.meta.order.clone(),
            Some(order_id) => order_facts(client, order_id)?,
        };
        out.push((w.doc.clone(), facts));
    }
    Ok(out)
}

fn order_facts(client: &mut Client, order_id: &str) -> Result<Option<OrderFacts>, StorageError> {
    let row = client.query_opt(
        "SELECT order_no, assignee, assignees_ever FROM docs WHERE doc_id = $1",
        &[&DocId::Order(order_id.to_owned()).to_string()],
    )?;
    Ok(row.and_then(|r| {
        r.get::<_, Option<String>>(0).map(|order_no| OrderFacts {
            order_no,
            assignee: r.get(1),
            assignees_ever: split_ever(r.get(2)),
        })
    }))
}
