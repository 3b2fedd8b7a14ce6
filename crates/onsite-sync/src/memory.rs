//! An in-memory [`DocStore`]: the relay's storage model without a database, for deterministic
//! tests, benchmarks and demos. It is complete (nothing is faked) but not durable.

use std::collections::{BTreeMap, HashSet};
use std::convert::Infallible;
use std::sync::Arc;

use automerge::ChangeHash;
use onsite_domain::order::Order;
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, doc, retention};

use crate::access::{Readers, governing_order};
use crate::relay::{
    AccessEvent, DocMeta, DocStore, DocWrite, FeedEntry, FeedReader, Origin, StoredDoc,
};
use crate::snapshot::KeyRange;
use crate::views::Views;

/// One stored change.
#[derive(Debug, Clone)]
struct Row {
    seq: u64,
    doc: DocId,
    bytes: Vec<u8>,
    /// The technicians whose feed lists this change.
    readers: Readers,
    /// Its document's centre (`None`: company-wide).
    centre: Option<String>,
}

/// The in-memory store.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    rows: Vec<Row>,
    hashes: HashSet<(DocId, ChangeHash)>,
    docs: BTreeMap<DocId, StoredDoc>,
    events: Vec<(String, AccessEvent)>,
    /// How many commits were made (for tests).
    pub commits: u64,
    /// Hydrated documents kept between requests, as the relay keeps them.
    views: Arc<Views>,
    /// The service centre of each user the store knows (the relay's accounts).
    pub user_centres: BTreeMap<String, String>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of stored changes.
    pub fn change_count(&self) -> usize {
        self.rows.len()
    }

    /// Saved bytes of a stored document.
    pub fn doc_bytes(&self, doc: &DocId) -> Option<&[u8]> {
        self.docs.get(doc).map(|d| d.bytes.as_slice())
    }

    /// Every stored document id.
    pub fn doc_ids(&self) -> impl Iterator<Item = &DocId> {
        self.docs.keys()
    }

    /// Whether a partial replica with the window ending at `cutoff_ms` holds the job of
    /// `order_id`, read from the stored order and its visits (held when the order is missing or
    /// unreadable, as the relay's storage does).
    fn job_held(&self, order_id: &str, cutoff_ms: i64) -> bool {
        let read = |d: &StoredDoc| doc::load(&d.bytes).ok();
        let Some(order) = self
            .docs
            .get(&DocId::Order(order_id.to_owned()))
            .and_then(read)
            .and_then(|d| doc::read::<Order>(&d).ok())
        else {
            return true;
        };
        let visits: Vec<Visit> = self
            .docs
            .iter()
            .filter(|(id, _)| matches!(id, DocId::Visit { order_id: o, .. } if o == order_id))
            .filter_map(|(_, d)| read(d).and_then(|d| doc::read::<Visit>(&d).ok()))
            .collect();
        retention::held(retention::job(&order, &visits), cutoff_ms)
    }
}

/// Whether `reader`'s feed lists the change `row` (`None`: every feed).
fn lists(reader: Option<FeedReader<'_>>, row: &Row) -> bool {
    match (reader, &row.readers) {
        (None, _) => true,
        (Some(FeedReader::Technician(_)), Readers::AllTechnicians) => true,
        (Some(FeedReader::Technician(t)), Readers::Technicians(ts)) => ts.iter().any(|x| x == t),
        (Some(FeedReader::Centre(c)), _) => row.centre.as_deref().is_none_or(|x| x == c),
    }
}

impl DocStore for MemoryStore {
    type Error = Infallible;

    fn head_seq(&mut self) -> Result<u64, Infallible> {
        Ok(self.rows.last().map_or(0, |r| r.seq))
    }

    fn meta(&mut self, doc: &DocId) -> Result<Option<DocMeta>, Infallible> {
        Ok(self.docs.get(doc).map(|d| d.meta.clone()))
    }

    fn load(&mut self, doc: &DocId) -> Result<Option<StoredDoc>, Infallible> {
        Ok(self.docs.get(doc).cloned())
    }

    fn views(&self) -> Option<&Views> {
        Some(&self.views)
    }

    fn commit(&mut self, writes: &[DocWrite], _origin: &Origin) -> Result<u64, Infallible> {
        let mut seq = self.head_seq()?;
        for w in writes {
            for c in &w.changes {
                if self.hashes.insert((w.doc.clone(), c.hash)) {
                    seq += 1;
                    self.rows.push(Row {
                        seq,
                        doc: w.doc.clone(),
                        bytes: c.bytes.clone(),
                        readers: w.readers.clone(),
                        centre: w.meta.centre.clone(),
                    });
                }
            }
            for (user, granted) in &w.access {
                self.events.push((
                    user.clone(),
                    AccessEvent {
                        seq,
                        doc: w.doc.clone(),
                        granted: *granted,
                    },
                ));
            }
            self.docs.insert(
                w.doc.clone(),
                StoredDoc {
                    bytes: w.bytes.clone(),
                    meta: w.meta.clone(),
                },
            );
        }
        self.commits += 1;
        Ok(seq)
    }

    fn feed_changes(
        &mut self,
        reader: Option<FeedReader<'_>>,
        after: u64,
        upto: u64,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, Infallible> {
        Ok(self
            .rows
            .iter()
            .filter(|r| r.seq > after && r.seq <= upto && lists(reader, r))
            .take(limit)
            .map(|r| FeedEntry {
                doc: r.doc.clone(),
                seq: r.seq,
            })
            .collect())
    }

    fn user_centre(&mut self, user_id: &str) -> Result<Option<String>, Infallible> {
        Ok(self.user_centres.get(user_id).cloned())
    }

    fn access_events(
        &mut self,
        user_id: &str,
        after: u64,
        upto: u64,
    ) -> Result<Vec<AccessEvent>, Infallible> {
        Ok(self
            .events
            .iter()
            .filter(|(u, e)| u == user_id && e.seq > after && e.seq <= upto)
            .map(|(_, e)| e.clone())
            .collect())
    }

    fn window_docs(
        &mut self,
        centre: Option<&str>,
        cutoff_ms: i64,
        range: KeyRange<'_>,
        limit: usize,
    ) -> Result<Vec<DocId>, Infallible> {
        let mut ids: Vec<(String, &DocId)> = self
            .docs
            .iter()
            .filter(|(_, d)| centre.is_none_or(|c| d.meta.centre.as_deref().is_none_or(|x| x == c)))
            .map(|(id, _)| (id.to_string(), id))
            .filter(|(text, _)| range.holds(text))
            .collect();
        ids.sort();
        let mut held: BTreeMap<&str, bool> = BTreeMap::new();
        let mut out = Vec::new();
        for (_, id) in ids {
            if out.len() == limit {
                break;
            }
            let keep = match governing_order(id) {
                None => true,
                Some(order) => *held
                    .entry(order)
                    .or_insert_with(|| self.job_held(order, cutoff_ms)),
            };
            if keep {
                out.push(id.clone());
            }
        }
        Ok(out)
    }

    fn window_count(
        &mut self,
        centre: Option<&str>,
        cutoff_ms: i64,
        range: KeyRange<'_>,
    ) -> Result<u64, Infallible> {
        Ok(self
            .window_docs(centre, cutoff_ms, range, usize::MAX)?
            .len() as u64)
    }

    fn orders_numbered(&mut self, order_no: &str) -> Result<Vec<DocId>, Infallible> {
        Ok(self
            .docs
            .iter()
            .filter(|(_, d)| {
                d.meta
                    .order
                    .as_ref()
                    .is_some_and(|o| o.order_no == order_no)
            })
            .map(|(id, _)| id.clone())
            .collect())
    }

    fn changes_after(&mut self, doc: &DocId, after: u64) -> Result<Vec<Vec<u8>>, Infallible> {
        Ok(self
            .rows
            .iter()
            .filter(|r| r.seq > after && &r.doc == doc)
            .map(|r| r.bytes.clone())
            .collect())
    }
}
