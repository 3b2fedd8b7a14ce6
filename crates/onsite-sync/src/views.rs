//! Documents as the domain reads them, kept between requests: the relay hydrates an order to
//! check every visit written against it, the template library for every request that writes a
//! visit, and every touched order with its visits for the facts it derives at commit. Loading and
//! hydrating those again for every request was most of a request's CPU (docs/benchmarks.md,
//! "the relay under load").
//!
//! An entry is keyed by the document **and the heads it was read at**: a document's heads name
//! its content exactly, so an entry is either right for the heads the store reports now or not
//! used — nothing is ever invalidated by hand, and a stale entry simply ages out. Bounded by
//! **bytes** (least recently used goes first): each entry is charged an estimate of the memory
//! it holds ([`View::estimated_bytes`]), so the budget is what the cache costs in RSS whatever
//! the documents look like.

use std::io;
use std::sync::{Arc, Mutex};

use automerge::ChangeHash;
use autosurgeon::Hydrate;
use lru::LruCache;
use onsite_domain::order::Order;
use onsite_domain::reference::TemplateLibrary;
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, doc};
use serde::Serialize;

use crate::relay::DocStore;

/// How many bytes of hydrated documents one relay keeps (by [`View::estimated_bytes`]): every
/// order and visit of 1,000 busy devices (20,000 documents of 2–4 KB) and the reference
/// documents, within the relay's 300 MB memory target (docs/benchmarks.md, "Third round").
pub const BUDGET_BYTES: usize = 96 * 1024 * 1024;

/// What an entry costs besides its value: the key, the heads, the LRU node and the `Arc`.
const ENTRY_OVERHEAD: usize = 160;

/// One hydrated document.
#[derive(Debug, Clone)]
pub enum View {
    Order(Arc<Order>),
    Visit(Arc<Visit>),
    Templates(Arc<TemplateLibrary>),
}

impl View {
    /// An estimate of the memory the value holds: its inline size plus the length of its JSON
    /// form, counted without building the JSON. JSON spells every string and number about as
    /// long as the heap holds it and adds names and punctuation where the heap adds pointers,
    /// lengths, capacities and the allocator's own overhead; measured against the process's
    /// resident memory for 20,000 hydrated copies (docs/benchmarks.md, "Third round") the
    /// estimate is within a factor of two of the truth.
    pub fn estimated_bytes(&self) -> usize {
        match self {
            View::Order(v) => inline_and_json(v.as_ref()),
            View::Visit(v) => inline_and_json(v.as_ref()),
            View::Templates(v) => inline_and_json(v.as_ref()),
        }
    }
}

fn inline_and_json<T: Serialize>(value: &T) -> usize {
    let mut counted = Counted(0);
    // Serialising a domain value to a writer that cannot fail does not fail; a value that
    // did would be charged what was counted so far.
    let _ = serde_json::to_writer(&mut counted, value);
    std::mem::size_of::<T>() + counted.0
}

/// A writer that only counts.
struct Counted(usize);

impl io::Write for Counted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
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

struct Entry {
    heads: Vec<ChangeHash>,
    view: View,
    bytes: usize,
}

/// The entries and what they are charged in all.
struct Kept {
    entries: LruCache<DocId, Entry>,
    bytes: usize,
}

/// The cache, shared by every request of one relay (behind a mutex held only to look up or
/// insert, never while hydrating or estimating).
pub struct Views {
    kept: Mutex<Kept>,
    budget: usize,
}

impl std::fmt::Debug for Views {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Views")
            .field("entries", &self.len())
            .field("bytes", &self.bytes())
            .field("budget", &self.budget)
            .finish()
    }
}

impl Default for Views {
    fn default() -> Self {
        Views::new(BUDGET_BYTES)
    }
}

impl Views {
    /// A cache keeping at most `budget` bytes of entries (an entry larger than that is not kept).
    pub fn new(budget: usize) -> Views {
        Views {
            kept: Mutex::new(Kept {
                entries: LruCache::unbounded(),
                bytes: 0,
            }),
            budget,
        }
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `doc` as read at `heads`, if kept.
    pub fn get<T: Viewed>(&self, doc: &DocId, heads: &[ChangeHash]) -> Option<Arc<T>> {
        match self.kept().entries.get(doc) {
            Some(e) if e.heads.as_slice() == heads => T::unwrap(&e.view),
            _ => None,
        }
    }

    /// Keep `view` as `doc` read at `heads`, dropping the least recently used entries until
    /// the cache is within its budget again.
    pub fn put(&self, doc: DocId, heads: Vec<ChangeHash>, view: View) {
        let bytes = ENTRY_OVERHEAD + view.estimated_bytes();
        let mut kept = self.kept();
        if let Some(old) = kept.entries.pop(&doc) {
            kept.bytes -= old.bytes;
        }
        if bytes > self.budget {
            return;
        }
        kept.entries.put(doc, Entry { heads, view, bytes });
        kept.bytes += bytes;
        while kept.bytes > self.budget {
            let Some((_, gone)) = kept.entries.pop_lru() else {
                break;
            };
            kept.bytes -= gone.bytes;
        }
    }

    /// How many documents are kept.
    pub fn len(&self) -> usize {
        self.kept().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What the kept entries are charged in all (at most the budget).
    pub fn bytes(&self) -> usize {
        self.kept().bytes
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
        let views = Views::new(BUDGET_BYTES);
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

    fn library() -> View {
        View::Templates(Arc::new(templates::builtin_library()))
    }

    #[test]
    fn the_least_recently_used_entry_goes_first_when_over_budget() {
        let one = ENTRY_OVERHEAD + library().estimated_bytes();
        let views = Views::new(2 * one);
        let ids = [DocId::Templates, DocId::FeeSchedule, DocId::PartsCatalogue];
        views.put(ids[0].clone(), vec![], library());
        views.put(ids[1].clone(), vec![], library());
        assert_eq!(views.bytes(), 2 * one, "each entry is charged its estimate");
        assert!(views.get::<TemplateLibrary>(&ids[0], &[]).is_some());
        views.put(ids[2].clone(), vec![], library());
        assert_eq!(
            views.len(),
            2,
            "a third entry does not fit the budget of two"
        );
        assert_eq!(
            views.bytes(),
            2 * one,
            "what was dropped is no longer charged"
        );
        assert!(
            views.get::<TemplateLibrary>(&ids[1], &[]).is_none(),
            "the entry used least recently was dropped"
        );
        assert!(views.get::<TemplateLibrary>(&ids[0], &[]).is_some());
    }

    #[test]
    fn a_document_kept_again_is_charged_once() {
        let one = ENTRY_OVERHEAD + library().estimated_bytes();
        let views = Views::new(10 * one);
        views.put(DocId::Templates, vec![], library());
        views.put(DocId::Templates, vec![], library());
        assert_eq!(
            (views.len(), views.bytes()),
            (1, one),
            "a document replaced at new heads must not keep charging for the old entry"
        );
    }

    #[test]
    fn an_entry_larger_than_the_budget_is_not_kept() {
        let views = Views::new(100);
        views.put(DocId::Templates, vec![], library());
        assert!(
            views.is_empty() && views.bytes() == 0,
            "one entry over the budget must not evict everything else nor stay over budget"
        );
    }

    #[test]
    fn the_estimate_grows_with_the_content() {
        let full = templates::builtin_library();
        let empty = TemplateLibrary {
            schema: full.schema,
            templates: Vec::new(),
        };
        let mut long = full.clone();
        long.templates[0].id = "x".repeat(10_000);
        let of = |l: TemplateLibrary| View::Templates(Arc::new(l)).estimated_bytes();
        let (full, empty, long) = (of(full), of(empty), of(long));
        assert!(
            full > empty + 1_000,
            "a library of templates ({full} B) must be charged more than an empty one ({empty} B)"
        );
        assert!(
            long >= full + 10_000 - 64,
            "a string of 10,000 bytes must be charged about its length ({long} B vs {full} B)"
        );
    }
}
