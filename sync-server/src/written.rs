//! The documents one commit writes, as the domain reads them, with the relay's cache of what it
//! read before ([`Views`]): the facts of every touched order ([`crate::outward`]) are derived from
//! these, so a commit — which holds the writer (SQLite) or the feed head's lock (PostgreSQL) —
//! loads and hydrates only what neither holds. Shared by both backends; each passes how it
//! reads a stored document's heads and bytes.

use std::collections::BTreeMap;
use std::sync::Arc;

use automerge::ChangeHash;
use onsite_domain::order::Order;
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, doc};
use onsite_sync::relay::DocWrite;
use onsite_sync::views::{View, Viewed, Views};

use crate::storage::StorageError;

/// A stored document's heads and saved bytes.
pub type Stored = (Vec<ChangeHash>, Vec<u8>);

/// An order and its visits as the domain reads them.
pub type OrderWithVisits = (Arc<Order>, Vec<Visit>);

pub struct Written<'a> {
    views: BTreeMap<DocId, View>,
    cache: Option<&'a Views>,
}

impl<'a> Written<'a> {
    pub fn of(writes: &[DocWrite], cache: &'a Views) -> Written<'a> {
        Written {
            views: writes
                .iter()
                .filter_map(|w| Some((w.doc.clone(), w.view.clone()?)))
                .collect(),
            cache: Some(cache),
        }
    }

    /// Nothing written and no cache (a migration deriving every stored order's facts).
    pub fn nothing() -> Written<'static> {
        Written {
            views: BTreeMap::new(),
            cache: None,
        }
    }

    /// Document `id` read as `T`: as written, else as kept at its stored heads, else loaded with
    /// `stored`; `None` when absent or not a `T`.
    pub fn read<T: Viewed>(
        &self,
        id: &DocId,
        stored: impl FnOnce(&DocId) -> Result<Option<Stored>, StorageError>,
    ) -> Result<Option<Arc<T>>, StorageError> {
        if let Some(v) = self.views.get(id).and_then(T::unwrap) {
            return Ok(Some(v));
        }
        let Some((heads, bytes)) = stored(id)? else {
            return Ok(None);
        };
        if let Some(hit) = self.cache.and_then(|c| c.get::<T>(id, &heads)) {
            return Ok(Some(hit));
        }
        let value = doc::load(&bytes)
            .ok()
            .and_then(|d| doc::read::<T>(&d).ok())
            .map(Arc::new);
        if let (Some(cache), Some(v)) = (self.cache, &value) {
            cache.put(id.clone(), heads, T::wrap(v.clone()));
        }
        Ok(value)
    }

    /// Order `order_id` and the visits `visit_ids` (its stored visits), read as above; `None`
    /// when the order is missing or damaged.
    pub fn order_with_visits(
        &self,
        order_id: &str,
        visit_ids: Vec<DocId>,
        mut stored: impl FnMut(&DocId) -> Result<Option<Stored>, StorageError>,
    ) -> Result<Option<OrderWithVisits>, StorageError> {
        let order_doc = DocId::Order(order_id.to_owned());
        let Some(order) = self.read::<Order>(&order_doc, &mut stored)? else {
            return Ok(None);
        };
        let mut visits = Vec::with_capacity(visit_ids.len());
        for id in visit_ids {
            if let Some(v) = self.read::<Visit>(&id, &mut stored)? {
                visits.push(Visit::clone(&v));
            }
        }
        Ok(Some((order, visits)))
    }
}
