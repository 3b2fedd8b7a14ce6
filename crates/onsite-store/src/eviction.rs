//! A partial replica's eviction (issue 14): the jobs a device no longer holds under its history
//! window (`onsite_domain::retention`: settled and quiet since before the cutoff) are removed —
//! the order and every visit of it together, and only when none of them has a change this device
//! made and the relay has not confirmed. Jobs fetched from the relay's history on demand are held
//! until a time ([`Store::hold_job`]) so the one being looked at does not vanish at the next sync.

use onsite_domain::{DocId, Millis};
use rusqlite::params;

use crate::{Store, StoreError};

/// What one eviction removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Evicted {
    /// Jobs removed whole.
    pub jobs: usize,
    /// Their documents (orders and visits).
    pub docs: usize,
    /// Jobs outside the window kept because a document of theirs has unsynced changes.
    pub kept_unsynced: usize,
}

impl Store {
    /// Keep the job of `order_id` (fetched from the relay's history) until `until_ms`, whatever
    /// the window says; a later hold replaces an earlier one.
    pub fn hold_job(&mut self, order_id: &str, until_ms: Millis) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO held_jobs(order_id, until_ms) VALUES (?1, ?2)
                 ON CONFLICT(order_id) DO UPDATE SET until_ms = excluded.until_ms",
            )?
            .execute(params![order_id, until_ms])?;
        Ok(())
    }

    /// Remove every job settled with its last activity before `cutoff_ms` and not held past
    /// `now_ms`, each in one transaction, skipping (and counting) those with unsynced changes.
    pub fn evict_history(
        &mut self,
        cutoff_ms: Millis,
        now_ms: Millis,
    ) -> Result<Evicted, StoreError> {
        self.conn
            .prepare_cached("DELETE FROM held_jobs WHERE until_ms <= ?1")?
            .execute(params![now_ms])?;
        let orders: Vec<String> = self
            .conn
            .prepare_cached(
                "SELECT order_id FROM idx_orders
                 WHERE settled = 1 AND last_activity_ms < ?1
                   AND order_id NOT IN (SELECT order_id FROM held_jobs)",
            )?
            .query_map(params![cutoff_ms], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut out = Evicted::default();
        for order_id in orders {
            let docs = self.job_docs(&order_id)?;
            match self.remove_docs(&docs) {
                Ok(()) => {
                    out.jobs += 1;
                    out.docs += docs.len();
                }
                Err(StoreError::UnsyncedChanges { .. }) => out.kept_unsynced += 1,
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The order `order_id` and its stored visits.
    fn job_docs(&self, order_id: &str) -> Result<Vec<DocId>, StoreError> {
        let mut docs = vec![DocId::Order(order_id.to_owned())];
        for key in crate::index::visit_keys(&self.conn, order_id)? {
            docs.push(key.parse().map_err(|_| StoreError::Corrupt {
                doc_id: key.clone(),
                detail: "the row's document id is malformed".into(),
            })?);
        }
        Ok(docs)
    }
}
