//! Drafts: text the technician is typing (notes, readings, N/A reasons) kept durably on this
//! device until it is committed as a visit edit. Drafts are per device and never synced; they are
//! not documents and have no index rows.

use onsite_domain::Millis;
use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::{Store, StoreError};

/// Which field a draft belongs to: `field` names it (`diagnosis`, `reading`, …); checklist fields
/// also name the item (empty strings for order-level fields).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DraftKey {
    pub order_id: String,
    pub field: String,
    pub template_id: String,
    pub item_id: String,
}

/// One draft as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub key: DraftKey,
    /// The text as typed; an empty text is a draft too (the technician erased the field).
    pub text: String,
    pub saved_at_ms: Millis,
}

impl Store {
    /// Keep `draft`, replacing an earlier draft of the same field; committed before returning.
    pub fn save_draft(&mut self, draft: &Draft) -> Result<(), StoreError> {
        let k = &draft.key;
        self.conn
            .prepare_cached(
                "INSERT INTO drafts (order_id, field, template_id, item_id, text, saved_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(order_id, field, template_id, item_id)
                 DO UPDATE SET text = excluded.text, saved_at_ms = excluded.saved_at_ms",
            )?
            .execute(params![
                k.order_id,
                k.field,
                k.template_id,
                k.item_id,
                draft.text,
                draft.saved_at_ms
            ])?;
        Ok(())
    }

    /// The drafts of `order_id`, by field, template and item.
    pub fn drafts(&self, order_id: &str) -> Result<Vec<Draft>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT field, template_id, item_id, text, saved_at_ms FROM drafts
             WHERE order_id = ?1 ORDER BY field, template_id, item_id",
        )?;
        let rows = stmt
            .query_map(params![order_id], |r| {
                Ok(Draft {
                    key: DraftKey {
                        order_id: order_id.to_owned(),
                        field: r.get(0)?,
                        template_id: r.get(1)?,
                        item_id: r.get(2)?,
                    },
                    text: r.get(3)?,
                    saved_at_ms: r.get(4)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Drop one draft; returns whether there was one.
    pub fn discard_draft(&mut self, key: &DraftKey) -> Result<bool, StoreError> {
        let n = self
            .conn
            .prepare_cached(
                "DELETE FROM drafts
                 WHERE order_id = ?1 AND field = ?2 AND template_id = ?3 AND item_id = ?4",
            )?
            .execute(params![
                key.order_id,
                key.field,
                key.template_id,
                key.item_id
            ])?;
        Ok(n > 0)
    }

    /// Drop every draft of one checklist item (after its answer was committed); returns how many.
    pub fn discard_item_drafts(
        &mut self,
        order_id: &str,
        template_id: &str,
        item_id: &str,
    ) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "DELETE FROM drafts WHERE order_id = ?1 AND template_id = ?2 AND item_id = ?3",
            )?
            .execute(params![order_id, template_id, item_id])?)
    }

    /// Drop every draft of `order_id` (after the customer signed); returns how many.
    pub fn discard_order_drafts(&mut self, order_id: &str) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .prepare_cached("DELETE FROM drafts WHERE order_id = ?1")?
            .execute(params![order_id])?)
    }
}
