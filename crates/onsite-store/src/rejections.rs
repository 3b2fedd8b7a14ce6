//! The relay's refusals of this device's changes, kept per document until the document changes
//! again or the relay accepts it. The local change stays in the document (nothing typed is
//! lost); the refusal is shown on its order, and the document is not sent again while its heads
//! are those the relay refused, so a refused change does not loop through retries.

use automerge::ChangeHash;
use onsite_domain::{DocId, Millis};
use rusqlite::{Connection, OptionalExtension, params};

use crate::{Store, StoreError};

/// A refusal as stored: the relay's code (its dotted text) and message, and the document's heads
/// when it was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: String,
    pub message: String,
    pub at_ms: Millis,
    heads: String,
}

impl Refusal {
    /// Whether the document is still as it was when refused (`heads` its current heads).
    pub fn still_applies(&self, heads: &[ChangeHash]) -> bool {
        self.heads == crate::store::heads_text(heads)
    }
}

impl Store {
    /// Keep the relay's refusal of document `id` at its current `heads`, replacing an earlier one.
    pub fn record_refusal(
        &mut self,
        id: &DocId,
        heads: &[ChangeHash],
        code: &str,
        message: &str,
        at_ms: Millis,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO refusals (doc_id, code, message, heads, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(doc_id) DO UPDATE SET code = excluded.code,
                 message = excluded.message, heads = excluded.heads, at_ms = excluded.at_ms",
            )?
            .execute(params![
                id.to_string(),
                code,
                message,
                crate::store::heads_text(heads),
                at_ms
            ])?;
        Ok(())
    }

    /// The relay's refusal of document `id`, if one is kept.
    pub fn refusal(&self, id: &DocId) -> Result<Option<Refusal>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT code, message, at_ms, heads FROM refusals WHERE doc_id = ?1")?
            .query_row([id.to_string()], |r| {
                Ok(Refusal {
                    code: r.get(0)?,
                    message: r.get(1)?,
                    at_ms: r.get(2)?,
                    heads: r.get(3)?,
                })
            })
            .optional()?)
    }

    /// Forget the refusal of document `id` (the relay accepted it, or it was removed).
    pub fn clear_refusal(&mut self, id: &DocId) -> Result<(), StoreError> {
        delete_refusal(&self.conn, &id.to_string())
    }
}

/// Delete the refusal of the document `key`, if any.
pub(crate) fn delete_refusal(conn: &Connection, key: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM refusals WHERE doc_id = ?1")?
        .execute([key])?;
    Ok(())
}
