//! Reads outside the sync protocol (the public verify page, profiles)
//! and attachments, in PostgreSQL.

use postgres::Client;

use super::parse_doc_id;
use crate::storage::{DocBytes, OrderRecord, StorageError, StoredAttachment};

/// Whether a visit of the order numbered `order_no` is signed over `hash`: index lookups only.
pub(super) fn signed_record_exists(
    c: &mut Client,
    order_no: &str,
    hash: &str,
) -> Result<bool, StorageError> {
    let row = c.query_opt(
        "SELECT 1 FROM docs AS v JOIN docs AS o
           ON o.doc_id = 'order:' || split_part(v.doc_id, ':', 2)
         WHERE v.record_hash = $2 AND v.doc_id LIKE 'visit:%' AND o.order_no = $1
         LIMIT 1",
        &[&order_no, &hash],
    )?;
    Ok(row.is_some())
}

fn doc_bytes(rows: Vec<postgres::Row>) -> Result<Vec<DocBytes>, StorageError> {
    rows.iter()
        .map(|r| {
            Ok(DocBytes {
                doc: parse_doc_id(r.get(0))?,
                bytes: r.get(1),
            })
        })
        .collect()
}

/// The one order numbered `order_no` and its visits; `None` when none or several have it.
pub(super) fn order_record(
    c: &mut Client,
    order_no: &str,
) -> Result<Option<OrderRecord>, StorageError> {
    let orders = doc_bytes(c.query(
        "SELECT doc_id, bytes FROM docs WHERE order_no = $1 AND doc_id LIKE 'order:%'
         ORDER BY doc_id LIMIT 2",
        &[&order_no],
    )?)?;
    // Exactly one order: a number two orders share verifies nothing.
    let order = match <[_; 1]>::try_from(orders) {
        Ok([one]) => one,
        Err(orders) => {
            if orders.len() > 1 {
                tracing::warn!(order_no, "verify: several orders share this number");
            }
            return Ok(None);
        }
    };
    let order_id = order
        .doc
        .to_string()
        .trim_start_matches("order:")
        .to_owned();
    let visits = doc_bytes(c.query(
        "SELECT doc_id, bytes FROM docs WHERE doc_id >= $1 AND doc_id < $2 ORDER BY doc_id",
        &[&format!("visit:{order_id}:"), &format!("visit:{order_id};")],
    )?)?;
    Ok(Some(OrderRecord { order, visits }))
}

/// Every stored `profile:` document, by id.
pub(super) fn profiles(c: &mut Client) -> Result<Vec<DocBytes>, StorageError> {
    doc_bytes(c.query(
        "SELECT doc_id, bytes FROM docs WHERE starts_with(doc_id, 'profile:') ORDER BY doc_id",
        &[],
    )?)
}

/// Store an attachment and its uploaders in one transaction; whether the bytes were new.
pub(super) fn put_attachment(
    c: &mut Client,
    a: &StoredAttachment,
    now_ms: i64,
) -> Result<bool, StorageError> {
    let mut tx = c.transaction()?;
    let new = tx.execute(
        "INSERT INTO attachments(sha256, mime, bytes, created_at_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT(sha256) DO NOTHING",
        &[&a.sha256, &a.mime, &a.bytes, &now_ms],
    )? == 1;
    for user in &a.uploaders {
        tx.execute(
            "INSERT INTO attachment_uploaders(sha256, user_id) VALUES ($1, $2)
             ON CONFLICT DO NOTHING",
            &[&a.sha256, user],
        )?;
    }
    tx.commit()?;
    Ok(new)
}

pub(super) fn attachment(
    c: &mut Client,
    sha256: &str,
) -> Result<Option<StoredAttachment>, StorageError> {
    let sql = "SELECT mime, bytes FROM attachments WHERE sha256 = $1";
    let Some(row) = c.query_opt(sql, &[&sha256])? else {
        return Ok(None);
    };
    let uploaders = c
        .query(
            "SELECT user_id FROM attachment_uploaders WHERE sha256 = $1 ORDER BY user_id",
            &[&sha256],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let uploader_centres = c
        .query(
            "SELECT DISTINCT u.centre FROM attachment_uploaders a JOIN users u USING (user_id)
             WHERE a.sha256 = $1 ORDER BY u.centre",
            &[&sha256],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    Ok(Some(StoredAttachment {
        sha256: sha256.to_owned(),
        mime: row.get(0),
        bytes: row.get(1),
        uploaders,
        uploader_centres,
    }))
}
