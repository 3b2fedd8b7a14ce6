//! Documents as the domain reads them, kept between requests: the relay hydrates an order to
//! check every visit written against it, the template library for every request that writes a
//! visit, and every touched order with its visits for the facts it derives at commit. Loading and
//! hydrating those again for every request was most of a request's CPU (docs/benchmarks.md,
//! "the relay under load").
//!
//! An entry is keyed by the document **and the heads it was read at**: a document's heads name
//! its content exactly, so an entry is either right for the heads the store reports now or not
//! used — nothing is ever invalidated by hand, and a stale entry simply ages out. Bounded by
//! count (least recently used goes first).

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use automerge::ChangeHash;
use autosurgeon::Hydrate;
use lru::LruCache;
use onsite_domain::order::Order;
use onsite_domain::reference::TemplateLibrary;
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, doc};

use crate::relay::DocStore;

/// How many hydrated documents one relay keeps: every order and visit of a busy hour and the
/// reference documents; a hydrated order or visit is a few kilobytes.
pub const CAPACITY: usize = 4_096;

/// One hydrated document.
#[derive(Debug, Clone)]
pub enum View {
    Order(Arc<Order>),
    Visit(Arc<Visit>),
    Templates(Arc<TemplateLibrary>),
}

/// A kind of document the cache holds.
pub trait Viewed: Hydrate + Sized {
    fn wrap(value: Arc<Self>) -> View;
    fn unwrap(view: &View) -> Option<Arc<Self>>;
}

macro_rules! viewed {
    ($t:ty, $variant:ident) => {
        impl Viewed for $t {
            fn wrap(value: Arc<Self>) -> View {
                View::$variant(value)
            }
            fn unwrap(view: &View) -> Option<Arc<Self>> {
                match view {
                    View::$variant(v) => Some(v.clone()),
                    _ => None,
                }
            }
        }
    };
}
viewed!(Order, Order);
viewed!(Visit, Visit);
viewed!(TemplateLibrary, Templates);

/// The cache, shared by every request of one relay (behind a mutex held only to look up or
/// insert, never while hydrating).
pub struct Views {
    entries: Mutex<LruCache<DocId, (Vec<ChangeHash>, View)>>,
}

impl std::fmt::Debug for Views {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = self.entries.lock().map_or(0, |e| e.len());
        f.debug_struct("Views").field("entries", &len).finish()
    }
}

impl Default for Views {
    fn default() -> Self {
        Views::new(CAPACITY)
    }
}

impl Views {
    pub fn new(capacity: usize) -> Views {
        let capacity = NonZeroUsize::new(capacity.max(1)).expect("at least one");
        Views {
            entries: Mutex::new(LruCache::new(capacity)),
        }
    }

    /// `doc` as read at `heads`, if kept.
    pub fn get<T: Viewed>(&self, doc: &DocId, heads: &[ChangeHash]) -> Option<Arc<T>> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(doc) {
            Some((at, view)) if at.as_slice() == heads => T::unwrap(view),
            _ => None,
        }
    }

    /// Keep `view` as `doc` read at `heads`.
    pub fn put(&self, doc: DocId, heads: Vec<ChangeHash>, view: View) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.put(doc, (heads, view));
    }

    /// How many documents are kept.
    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The stored document `id` read as `T`, through the store's cache when it keeps one: `None`
/// when it is absent or does not read as `T`.
pub fn stored<S: DocStore, T: Viewed>(
    store: &mut S,
    id: &DocId,
) -> Result<Option<Arc<T>>, S::Error> {
    if store.views().is_some() {
        let Some(meta) = store.meta(id)? else {
            return Ok(None);
        };
        if let Some(hit) = store.views().and_then(|v| v.get::<T>(id, &meta.heads)) {
            return Ok(Some(hit));
        }
    }
    let Some(stored) = store.load(id)? else {
        return Ok(None);
    };
    let Some(value) = doc::load(&stored.bytes)
        .ok()
        .and_then(|d| doc::read::<T>(&d).ok())
        .map(Arc::new)
    else {
        return Ok(None);
    };
    if let Some(views) = store.views() {
        views.put(id.clone(), stored.meta.heads, T::wrap(value.clone()));
    }
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::AutoCommit;
    use onsite_domain::templates;

    fn heads(doc: &AutoCommit) -> Vec<ChangeHash> {
        doc.clone().get_heads()
    }

    #[test]
    fn an_entry_is_used_only_at_the_heads_it_was_read_at() {
        let views = Views::new(8);
        let lib = Arc::new(templates::builtin_library());
        let mut d = AutoCommit::new();
        doc::write(&mut d, lib.as_ref()).unwrap();
        let at = heads(&d);
        views.put(DocId::Templates, at.clone(), View::Templates(lib.clone()));
        assert!(
            views
                .get::<TemplateLibrary>(&DocId::Templates, &at)
                .is_some(),
            "the library read at these heads is kept"
        );
        assert!(
            views
                .get::<TemplateLibrary>(&DocId::Templates, &[])
                .is_none(),
            "other heads are other content: the entry must not answer for them"
        );
        assert!(
            views.get::<Order>(&DocId::Templates, &at).is_none(),
            "an entry answers only for the kind it holds"
        );
    }

    #[test]
    fn the_least_recently_used_entry_goes_first() {
        let views = Views::new(2);
        let lib = Arc::new(templates::builtin_library());
        let ids = [DocId::Templates, DocId::FeeSchedule, DocId::PartsCatalogue];
        views.put(ids[0].clone(), vec![], View::Templates(lib.clone()));
        views.put(ids[1].clone(), vec![], View::Templates(lib.clone()));
        assert!(views.get::<TemplateLibrary>(&ids[0], &[]).is_some());
        views.put(ids[2].clone(), vec![], View::Templates(lib));
        assert_eq!(views.len(), 2, "the cache keeps at most its capacity");
        assert!(
            views.get::<TemplateLibrary>(&ids[1], &[]).is_none(),
            "the entry used least recently was dropped"
        );
        assert!(views.get::<TemplateLibrary>(&ids[0], &[]).is_some());
    }
}
