//! Forgetting what the device knew of its relay, when the relay's database turned out to be
//! another history than the one the device synced with (restored from a backup: `onsite_client`
//! notices it by the relay's database epoch).

use rusqlite::{TransactionBehavior, params};

use crate::{Store, StoreError};

impl Store {
    /// In one transaction: drop every document's sync state (what the relay was known to hold),
    /// count each document's changes made on this device as unsynced again — so every document
    /// this device wrote in is sent whole at the next sync, and the relay keeps whatever it
    /// lacks — mark every attachment as not uploaded, and delete the `kv_keys` (the feed cursor,
    /// the relay's epoch). Nothing of a document is changed or dropped. Returns how many
    /// documents are now waiting to be sent. A damaged document is left as it is (never sent).
    pub fn forget_relay(&mut self, kv_keys: &[&str]) -> Result<usize, StoreError> {
        let mut own = Vec::new();
        for id in self.list_doc_ids()? {
            let mut doc = match self.load_doc(&id) {
                Ok(doc) => doc,
                Err(StoreError::Corrupt { .. }) => continue,
                Err(e) => return Err(e),
            };
            let n = doc
                .get_changes_meta(&[])
                .iter()
                .filter(|c| c.actor.as_ref() == &self.actor)
                .count() as i64;
            own.push((id.to_string(), n));
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM sync_states", [])?;
        for (key, n) in &own {
            tx.prepare_cached(
                "UPDATE docs SET local_changes = ?2, synced_heads = '' WHERE doc_id = ?1",
            )?
            .execute(params![key, n])?;
        }
        tx.execute("UPDATE attachments SET synced = 0", [])?;
        for key in kv_keys {
            tx.execute("DELETE FROM kv WHERE key = ?1", params![key])?;
        }
        tx.commit()?;
        Ok(own.iter().filter(|(_, n)| *n > 0).count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use onsite_domain::order::Order;
    use onsite_domain::sla::SlaPolicy;
    use onsite_domain::{DocId, seed};

    #[test]
    fn forgetting_the_relay_makes_every_document_written_here_pending_again_and_keeps_data() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open_in(dir.path()).unwrap();
        let order = Order::create(seed::order(1, DAY), &SlaPolicy::default(), DAY).unwrap();
        let mine = DocId::Order(order.order_id.clone());
        s.create(&mine, &order).unwrap();
        let heads = s.load_doc(&mine).unwrap().get_heads();
        s.mark_synced(&mine, &heads).unwrap();
        s.set_sync_state(&mine, b"state").unwrap();
        s.kv_set("client.cursor", &7u64.to_be_bytes()).unwrap();
        s.kv_set("kept", b"1").unwrap();
        assert!(s.pending_docs().unwrap().is_empty(), "synced before");
        let sha = s.put_attachment(b"signature bytes", "image/png").unwrap();
        s.mark_attachment_synced(&sha).unwrap();

        assert_eq!(s.forget_relay(&["client.cursor"]).unwrap(), 1);
        assert_eq!(
            s.pending_docs().unwrap(),
            vec![mine.clone()],
            "a document with this device's changes is sent again"
        );
        assert_eq!(s.sync_state(&mine).unwrap(), None, "its sync state is gone");
        assert_eq!(
            s.pending_attachments().unwrap(),
            vec![sha],
            "uploaded again"
        );
        assert_eq!(
            s.kv_get("client.cursor").unwrap(),
            None,
            "the cursor is gone"
        );
        assert!(s.kv_get("kept").unwrap().is_some(), "other keys stay");
        assert_eq!(
            s.load_doc(&mine).unwrap().get_heads(),
            heads,
            "the document itself is unchanged"
        );
    }

    const DAY: i64 = 1_790_000_000_000;
}
