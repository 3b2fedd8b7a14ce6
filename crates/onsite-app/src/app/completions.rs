//! Completed and signed visits for the dispatcher: the Completions list and the live
//! notification ("WO-… completed and signed by 张师傅, 5★") when a sync brings a newly signed
//! visit. Which visits were already announced is kept in the store's kv, so a restart does not
//! announce them again.

use std::collections::BTreeSet;

use onsite_domain::record::{self, Verification};

use super::dispatch_read::Snapshot;
use super::{App, lock};
use crate::error::AppError;
use crate::view::*;

/// Most completions the Completions screen lists.
pub const COMPLETIONS_LIMIT: usize = 50;

const SEEN_KEY: &str = "console.completions_seen";

/// Every signed visit on the device, newest first (then by order number and technician).
fn signed(snap: &Snapshot) -> Vec<CompletionView> {
    let mut out: Vec<CompletionView> = snap
        .visits
        .iter()
        .filter_map(|v| {
            let sig = v.signature.as_ref()?;
            let order = snap.orders.iter().find(|o| o.order_id == v.order_id)?;
            Some(CompletionView {
                order_id: order.order_id.clone(),
                order_no: order.order_no.clone(),
                technician_id: v.technician_id.clone(),
                technician_name: snap.name_of(&v.technician_id),
                signer_name: sig.signer_name.clone(),
                stars: v.rating.as_ref().map(|r| r.stars),
                signed_at_ms: sig.signed_at_ms,
                record_hash: sig.record_hash.clone(),
                verified: matches!(record::verify(order, v), Verification::Valid { .. }),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.signed_at_ms
            .cmp(&a.signed_at_ms)
            .then_with(|| a.order_no.cmp(&b.order_no))
            .then_with(|| a.technician_id.cmp(&b.technician_id))
    });
    out
}

fn key(c: &CompletionView) -> String {
    format!("{}:{}", c.order_id, c.technician_id)
}

impl App {
    /// Recently completed and signed orders, newest first.
    pub fn completions(&self) -> Result<CompletionList, AppError> {
        self.dispatcher()?;
        let snap = Snapshot::read(&lock(&self.store))?;
        let mut completions = signed(&snap);
        completions.truncate(COMPLETIONS_LIMIT);
        Ok(CompletionList { completions })
    }

    /// Signed visits not announced before on this device, oldest first, now marked announced.
    /// The first call on a device only takes note of what is there (no flood of old news). The
    /// shell calls it after every sync and emits `order-completed` for each; a technician's
    /// device gets none.
    pub fn take_new_completions(&self) -> Result<Vec<CompletionView>, AppError> {
        if self.dispatcher().is_err() {
            return Ok(Vec::new());
        }
        let mut store = lock(&self.store);
        let snap = Snapshot::read(&store)?;
        let all = signed(&snap);
        let seen: Option<BTreeSet<String>> = store
            .kv_get(SEEN_KEY)?
            .and_then(|b| serde_json::from_slice(&b).ok());
        let fresh: Vec<CompletionView> = match &seen {
            None => Vec::new(),
            Some(seen) => all
                .iter()
                .rev()
                .filter(|c| !seen.contains(&key(c)))
                .cloned()
                .collect(),
        };
        if seen.is_none() || !fresh.is_empty() {
            let keys: BTreeSet<String> = all.iter().map(key).collect();
            let bytes = serde_json::to_vec(&keys).expect("a set of strings serialises");
            store.kv_set(SEEN_KEY, &bytes)?;
        }
        Ok(fresh)
    }
}
