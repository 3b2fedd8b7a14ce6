//! [`DocStore`] over one PostgreSQL connection: documents, their metadata and the feed, and the
//! finishing transaction that holds the feed head's lock (see [`crate::postgres`]).

use automerge::ChangeHash;
use onsite_domain::DocId;
use onsite_sync::access::OrderFacts;
use onsite_sync::relay::{
    AccessEvent, DocMeta, DocStore, DocWrite, FeedEntry, FeedReader, Origin, StoredDoc,
};
use onsite_sync::views::Views;
use postgres::Client;

use super::parse_doc_id;
use crate::storage::StorageError;
use crate::written::Written;

/// Where a finishing request is with its transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Preparing, or answering after the commit: plain statements, no lock.
    Reading,
    /// Finishing, nothing checked yet: the first check takes the lock.
    Unlocked,
    /// Inside the transaction that holds `feed_head`'s row lock.
    Locked,
}

/// A connection serving one request's [`DocStore`] calls.
pub(super) struct Docs<'a> {
    client: &'a mut Client,
    phase: Phase,
    /// The instance named in the commit's notification.
    instance: &'a str,
    /// The relay's cache of hydrated documents.
    views: Option<&'a Views>,
}

impl<'a> Docs<'a> {
    /// For preparing a request and for reads outside a request: never locks.
    pub(super) fn reading(client: &'a mut Client, views: Option<&'a Views>) -> Docs<'a> {
        Docs {
            client,
            phase: Phase::Reading,
            instance: "",
            views,
        }
    }

    /// For [`onsite_sync::relay::finish`]: the first check of a document begins the transaction
    /// and locks the feed head, which [`DocStore::commit`] then commits; a request that checks
    /// nothing (it stores nothing) never locks.
    pub(super) fn finishing(
        client: &'a mut Client,
        instance: &'a str,
        views: &'a Views,
    ) -> Docs<'a> {
        Docs {
            client,
            phase: Phase::Unlocked,
            instance,
            views: Some(views),
        }
    }

    /// End the request: a transaction still open (nothing was committed: the request was
    /// prepared again, or failed) is rolled back, releasing the lock.
    pub(super) fn end(mut self) -> Result<(), StorageError> {
        self.rollback()
    }

    fn rollback(&mut self) -> Result<(), StorageError> {
        if self.phase == Phase::Locked {
            self.phase = Phase::Reading;
            self.client.batch_execute("ROLLBACK")?;
        }
        Ok(())
    }

    /// Take the feed head's lock, once, before the first check of a finishing request.
    fn lock(&mut self) -> Result<(), StorageError> {
        if self.phase == Phase::Unlocked {
            self.client
                .batch_execute("BEGIN; SELECT seq FROM feed_head FOR UPDATE")?;
            self.phase = Phase::Locked;
        }
        Ok(())
    }

    fn meta_row(&mut self, doc: &DocId, bytes: bool) -> Result<Option<StoredDoc>, StorageError> {
        self.lock()?;
        let sql = if bytes {
            "SELECT heads, size, order_no, assignee, assignees_ever, record_hash, bytes, centre FROM docs WHERE doc_id = $1"
        } else {
            "SELECT heads, size, order_no, assignee, assignees_ever, record_hash, ''::bytea, centre FROM docs WHERE doc_id = $1"
        };
        let Some(row) = self.client.query_opt(sql, &[&doc.to_string()])? else {
            return Ok(None);
        };
        let order = row.get::<_, Option<String>>(2).map(|order_no| OrderFacts {
            order_no,
            assignee: row.get(3),
            assignees_ever: split_ever(row.get(4)),
        });
        let meta = DocMeta {
            heads: decode_heads(row.get(0))?,
            size: row.get::<_, i64>(1) as u64,
            order,
            centre: row.get(7),
            record_hash: row.get(5),
        };
        Ok(Some(StoredDoc {
            bytes: row.get(6),
            meta,
        }))
    }
}

impl Drop for Docs<'_> {
    /// A connection goes back to the pool outside any transaction, even after a panic.
    fn drop(&mut self) {
        let _ = self.rollback();
    }
}

/// Rows of `(doc_id, first seq)` as feed entries.
fn feed_entries(rows: &[postgres::Row]) -> Result<Vec<FeedEntry>, StorageError> {
    rows.iter()
        .map(|r| {
            Ok(FeedEntry {
                doc: parse_doc_id(r.get(0))?,
                seq: r.get::<_, i64>(1) as u64,
            })
        })
        .collect()
}

/// `assignees_ever` as stored: comma-separated user ids.
pub(super) fn split_ever(text: Option<String>) -> Vec<String> {
    text.unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(super) fn encode_heads(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

pub(super) fn decode_heads(bytes: Vec<u8>) -> Result<Vec<ChangeHash>, StorageError> {
    if !bytes.len().is_multiple_of(32) {
        return Err(StorageError::Corrupt("document heads".into()));
    }
    Ok(bytes
        .chunks_exact(32)
        .map(|c| ChangeHash(c.try_into().expect("32-byte chunk")))
        .collect())
}

impl DocStore for Docs<'_> {
    type Error = StorageError;

    fn head_seq(&mut self) -> Result<u64, StorageError> {
        let seq: i64 = self
            .client
            .query_one("SELECT seq FROM feed_head", &[])?
            .get(0);
        Ok(seq as u64)
    }

    fn meta(&mut self, doc: &DocId) -> Result<Option<DocMeta>, StorageError> {
        Ok(self.meta_row(doc, false)?.map(|d| d.meta))
    }

    fn load(&mut self, doc: &DocId) -> Result<Option<StoredDoc>, StorageError> {
        self.meta_row(doc, true)
    }

    fn commit(&mut self, writes: &[DocWrite], origin: &Origin) -> Result<u64, StorageError> {
        self.lock()?;
        if self.phase != Phase::Locked {
            self.client.batch_execute("BEGIN")?;
            self.client
                .batch_execute("SELECT seq FROM feed_head FOR UPDATE")?;
        }
        let written = match self.views {
            Some(views) => Written::of(writes, views),
            None => Written::nothing(),
        };
        let head = super::commit::write(self.client, writes, &written, origin, self.instance)?;
        self.client.batch_execute("COMMIT")?;
        self.phase = Phase::Reading;
        Ok(head)
    }

    /// As on SQLite (`sqlite::feed::changes`): each of a reader's two keys read in order up to
    /// `limit`, the two merged.
    fn feed_changes(
        &mut self,
        reader: Option<FeedReader<'_>>,
        after: u64,
        upto: u64,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, StorageError> {
        let (after, upto, limit) = (after as i64, upto as i64, limit as i64);
        let rows = match reader {
            None => self.client.query(
                "SELECT doc_id, seq FROM changes WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3",
                &[&after, &upto, &limit],
            )?,
            Some(reader) => {
                let [own, shared] = reader.keys();
                self.client.query(
                    "(SELECT doc_id, seq FROM feed
                         WHERE reader = $1 AND seq > $3 AND seq <= $4 ORDER BY seq LIMIT $5)
                     UNION ALL
                     (SELECT doc_id, seq FROM feed
                         WHERE reader = $2 AND seq > $3 AND seq <= $4 ORDER BY seq LIMIT $5)
                     ORDER BY seq LIMIT $5",
                    &[&own, &shared, &after, &upto, &limit],
                )?
            }
        };
        feed_entries(&rows)
    }

    fn user_centre(&mut self, user_id: &str) -> Result<Option<String>, StorageError> {
        self.lock()?;
        Ok(self
            .client
            .query_opt("SELECT centre FROM users WHERE user_id = $1", &[&user_id])?
            .map(|r| r.get(0)))
    }

    fn views(&self) -> Option<&Views> {
        self.views
    }

    fn access_events(
        &mut self,
        user_id: &str,
        after: u64,
        upto: u64,
    ) -> Result<Vec<AccessEvent>, StorageError> {
        let rows = self.client.query(
            "SELECT seq, doc_id, granted FROM access_events
             WHERE user_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq, id",
            &[&user_id, &(after as i64), &(upto as i64)],
        )?;
        rows.iter()
            .map(|r| {
                Ok(AccessEvent {
                    seq: r.get::<_, i64>(0) as u64,
                    doc: parse_doc_id(r.get(1))?,
                    granted: r.get(2),
                })
            })
            .collect()
    }

    fn changes_after(&mut self, doc: &DocId, after: u64) -> Result<Vec<Vec<u8>>, StorageError> {
        let rows = self.client.query(
            "SELECT bytes FROM changes WHERE doc_id = $1 AND seq > $2 ORDER BY seq",
            &[&doc.to_string(), &(after as i64)],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn window_docs(
        &mut self,
        centre: Option<&str>,
        cutoff_ms: i64,
        range: onsite_sync::snapshot::KeyRange<'_>,
        limit: usize,
    ) -> Result<Vec<DocId>, StorageError> {
        super::jobs::window_docs(self.client, centre, cutoff_ms, range, limit)
    }

    fn window_count(
        &mut self,
        centre: Option<&str>,
        cutoff_ms: i64,
        range: onsite_sync::snapshot::KeyRange<'_>,
    ) -> Result<u64, StorageError> {
        super::jobs::window_count(self.client, centre, cutoff_ms, range)
    }

    fn orders_numbered(&mut self, order_no: &str) -> Result<Vec<DocId>, StorageError> {
        self.lock()?;
        let rows = self.client.query(
            "SELECT doc_id FROM docs WHERE order_no = $1 AND doc_id LIKE 'order:%' ORDER BY doc_id",
            &[&order_no],
        )?;
        rows.iter().map(|r| parse_doc_id(r.get(0))).collect()
    }
}
