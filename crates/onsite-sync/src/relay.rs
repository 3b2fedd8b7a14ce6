//! The relay side: handle one sync request over a [`DocStore`].
//!
//! Order of work, so that nothing is acknowledged before it is durable and a refused write leaves
//! no trace:
//! 1. decode every message and parse the chunks it carries, counting their operations
//!    ([`crate::cost`]; a malformed one fails the whole request, nothing stored);
//! 2. per document: access check, refuse a message over [`admit::MESSAGE_OPS`] operations
//!    before applying it, apply the message to an in-memory copy, collect the new changes, refuse
//!    them whole if the user may not write, the document would grow too large, or it would break
//!    the domain's rules for its kind ([`crate::admit`]);
//!    then the relay's own rules on orders over the request as a whole ([`crate::orders`]:
//!    forged assignments, duplicate order numbers) refuse further documents whole;
//! 3. commit all accepted changes in one [`DocStore::commit`] (numbered by the global sequence);
//! 4. answer: Automerge replies for the documents sent, then the user's changes feed since the
//!    cursor (changes of readable documents, full copies of newly granted ones, revocations),
//!    paged by `max_docs_per_response` — a document the request only asked about that changed
//!    since it was prepared goes through the feed too; a staff device's first sync with a history
//!    window reads a snapshot instead of the feed ([`crate::snapshot`]).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use automerge::sync::{self, MessageFlags, MessageVersion, SyncDoc};
use automerge::{AutoCommit, ChangeHash};
use onsite_domain::bonus::BonusVersions;
use onsite_domain::order::Order;
use onsite_domain::reference::{TechnicianProfile, TemplateLibrary};
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, admit, doc};
use onsite_wire::{Code, DocMessage, DocRejection, Role, SyncRequest, SyncResponse};

use crate::SyncError;
use crate::access::{
    Access, OrderFacts, Principal, Readers, access, centre_of_new, company_wide, governing_order,
    order_access_changes, technician_readers,
};
use crate::orders::{self, OrderChange};
use crate::snapshot::{self, KeyRange};
use crate::views::{View, Views};

/// What the relay keeps about a document besides its content.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DocMeta {
    /// Current heads of the stored document.
    pub heads: Vec<ChangeHash>,
    /// Size of the stored document (saved form), bytes.
    pub size: u64,
    /// For `order:` documents: what access control needs.
    pub order: Option<OrderFacts>,
    /// The service centre the document belongs to (`None`: company-wide), set when it is first
    /// stored ([`centre_of_new`]) and kept.
    pub centre: Option<String>,
    /// For `visit:` documents the customer signed: the record hash they signed, so the public
    /// verify page finds a record by number and hash without loading any document (and answers
    /// a wrong hash for a real number as fast as an unknown number).
    pub record_hash: Option<String>,
}

/// A stored document: its saved bytes and meta.
#[derive(Debug, Clone)]
pub struct StoredDoc {
    pub bytes: Vec<u8>,
    pub meta: DocMeta,
}

/// One new change to store.
#[derive(Debug, Clone)]
pub struct NewChange {
    pub hash: ChangeHash,
    pub bytes: Vec<u8>,
}

/// Everything to store for one document in a commit.
#[derive(Debug, Clone)]
pub struct DocWrite {
    pub doc: DocId,
    /// New changes in causal order; the store numbers them in this order and skips hashes it
    /// already holds.
    pub changes: Vec<NewChange>,
    /// The document after the changes (saved form) and its meta.
    pub bytes: Vec<u8>,
    pub meta: DocMeta,
    /// Users gaining (`true`) or losing read access through this write.
    pub access: Vec<(String, bool)>,
    /// The document after the write as the domain reads it, for an order or a visit: what
    /// the store derives the order's facts from at commit without loading it again.
    pub view: Option<View>,
    /// The technicians whose feed lists these changes ([`technician_readers`] by the
    /// governing order's facts after the commit); set by the commit step.
    pub readers: Readers,
}

/// Who wrote a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub user_id: String,
    pub device_id: String,
    /// Relay time, milliseconds since the epoch.
    pub at_ms: i64,
}

/// A change of a document: its sequence number. In a list of documents changed after some
/// sequence number ([`plan_feed`]), each document once with its first such change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    pub doc: DocId,
    pub seq: u64,
}

/// A user gained or lost read access to a document at `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEvent {
    pub seq: u64,
    pub doc: DocId,
    pub granted: bool,
}

/// Whose rows of the feed index a feed reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedReader<'a> {
    /// A technician: the changes listed for them ([`DocWrite::readers`]) and for every
    /// technician.
    Technician(&'a str),
    /// A centre's dispatchers: the changes of the centre's documents and of the company-wide ones.
    Centre(&'a str),
}

impl FeedReader<'_> {
    /// The two `reader` keys of the feed index this reader's feed reads. Technicians are listed
    /// by user id (`*` for all of them), centres as `@<centre>` (`@*` for a company-wide
    /// document); user ids never start with `@` or equal `*`.
    pub fn keys(&self) -> [String; 2] {
        match self {
            FeedReader::Technician(t) => [(*t).to_owned(), EVERY_TECHNICIAN.to_owned()],
            FeedReader::Centre(c) => [centre_key(Some(c)), centre_key(None)],
        }
    }
}

/// The feed index's `reader` of a change every technician may read.
pub const EVERY_TECHNICIAN: &str = "*";

/// The feed index's `reader` for the dispatchers of `centre` (`None`: of every centre, a
/// company-wide document); every stored change is listed under its document's.
pub fn centre_key(centre: Option<&str>) -> String {
    format!("@{}", centre.unwrap_or("*"))
}

/// Storage of documents and the numbered change log. Implemented by the relay's SQLite storage
/// and by [`crate::memory::MemoryStore`].
pub trait DocStore {
    type Error: std::error::Error + Send + Sync + 'static;

    /// Sequence number of the newest stored change (0 when empty).
    fn head_seq(&mut self) -> Result<u64, Self::Error>;
    fn meta(&mut self, doc: &DocId) -> Result<Option<DocMeta>, Self::Error>;
    fn load(&mut self, doc: &DocId) -> Result<Option<StoredDoc>, Self::Error>;
    /// Store every write atomically (all or nothing), numbering new changes from the global
    /// sequence; returns the new head sequence. Must be durable when it returns.
    fn commit(&mut self, writes: &[DocWrite], origin: &Origin) -> Result<u64, Self::Error>;
    /// The changes numbered in `(after, upto]` that `reader`'s feed lists (`None`: every
    /// change), in sequence order, the first `limit` of them. A feed reads its page's worth of
    /// changes, not every change up to the head. By [`FeedReader::keys`], a technician's are
    /// those listed by [`DocWrite::readers`] when committed, a centre's those of its documents
    /// ([`DocMeta::centre`]) — a feed does not read every change of every device and centre.
    fn feed_changes(
        &mut self,
        reader: Option<FeedReader<'_>>,
        after: u64,
        upto: u64,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, Self::Error>;
    /// The service centre of the account `user_id`, when the relay has one.
    fn user_centre(&mut self, user_id: &str) -> Result<Option<String>, Self::Error>;
    /// Access events of `user_id` in `(after, upto]`, ordered by sequence.
    fn access_events(
        &mut self,
        user_id: &str,
        after: u64,
        upto: u64,
    ) -> Result<Vec<AccessEvent>, Self::Error>;
    /// Raw bytes of the document's changes numbered after `after`, in sequence order.
    fn changes_after(&mut self, doc: &DocId, after: u64) -> Result<Vec<Vec<u8>>, Self::Error>;
    /// The documents a partial replica holds ([`crate::snapshot`]) whose text ids lie in
    /// `range`, in text-id order, at most `limit`: every document outside jobs (registry,
    /// reference, profiles, ledgers) and every document of a job [`retention::held`] at
    /// `cutoff_ms` (a job the store has no facts for is held). `centre` keeps a centre's
    /// documents and the company-wide ones (`None`: every centre's). Access is checked by the
    /// caller.
    ///
    /// [`retention::held`]: onsite_domain::retention::held
    fn window_docs(
        &mut self,
        centre: Option<&str>,
        cutoff_ms: i64,
        range: KeyRange<'_>,
        limit: usize,
    ) -> Result<Vec<DocId>, Self::Error>;
    /// How many documents [`DocStore::window_docs`] would list in `range` (for the "n of N" of
    /// a first sync; access is not checked, so it may count a few the caller cannot read).
    fn window_count(
        &mut self,
        centre: Option<&str>,
        cutoff_ms: i64,
        range: KeyRange<'_>,
    ) -> Result<u64, Self::Error>;
    /// The stored `order:` documents whose order number is `order_no`.
    fn orders_numbered(&mut self, order_no: &str) -> Result<Vec<DocId>, Self::Error>;
    /// The relay's cache of hydrated documents ([`Views`]), when this store keeps one.
    fn views(&self) -> Option<&Views> {
        None
    }
}

/// Limits applied while handling a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_doc_bytes: u64,
    pub max_docs_per_response: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_doc_bytes: 8 * 1024 * 1024,
            max_docs_per_response: 200,
        }
    }
}

/// Who is syncing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub principal: Principal,
    pub device_id: String,
}

/// A failed request: nothing of it was stored.
#[derive(Debug, thiserror::Error)]
pub enum HandleError<E: std::error::Error + 'static> {
    #[error(transparent)]
    Refused(#[from] SyncError),
    #[error("relay storage failed: {0}")]
    Storage(#[source] E),
}

/// What was committed by a request, for push notifications.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Committed {
    /// Head sequence after the commit.
    pub head: u64,
    /// Changed documents with the facts of their governing order after the commit.
    pub docs: Vec<(DocId, Option<OrderFacts>)>,
    /// Users whose access changed.
    pub access_users: Vec<String>,
    /// The service centres whose documents changed (`None`: a company-wide document), each once.
    pub centres: Vec<Option<String>>,
}

impl Committed {
    /// What concerns every push stream: commits up to `head` that a relay instance may not have
    /// heard of one by one (its listening connection was down, or it fell behind), told as a
    /// change of a company-wide document is told — to every admin, every centre's dispatchers
    /// and every technician. A stream told of a commit that was not for it syncs and finds
    /// nothing new.
    pub fn everyone(head: u64) -> Committed {
        Committed {
            head,
            docs: vec![(DocId::Templates, None)],
            access_users: Vec::new(),
            centres: vec![None],
        }
    }
}

/// The centres whose documents `writes` change (`None`: a company-wide one), each once.
pub fn centres_of(writes: &[DocWrite]) -> Vec<Option<String>> {
    writes
        .iter()
        .map(|w| w.meta.centre.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The answer to a request plus what it committed (empty when nothing new was stored).
#[derive(Debug, Clone)]
pub struct Handled {
    pub response: SyncResponse,
    pub committed: Option<Committed>,
}

/// A decoded message and the number of operations its changes carry.
pub struct Incoming {
    pub doc: DocId,
    pub message: sync::Message,
    pub ops: u64,
}

/// Decode every message of a request and count the operations it carries, refusing duplicates
/// and malformed messages (damaged change bytes included).
pub fn decode_request(req: &SyncRequest) -> Result<Vec<Incoming>, SyncError> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(req.docs.len());
    for DocMessage { doc, message } in &req.docs {
        if !seen.insert(doc.clone()) {
            return Err(SyncError::DuplicateDoc(doc.clone()));
        }
        let malformed = |reason: String| SyncError::Malformed {
            doc: doc.to_string(),
            reason,
        };
        let msg = sync::Message::decode(message).map_err(|e| malformed(e.to_string()))?;
        let ops = crate::cost::message_ops(&msg).map_err(malformed)?;
        out.push(Incoming {
            doc: doc.clone(),
            message: msg,
            ops,
        });
    }
    Ok(out)
}

/// A sync message carrying `chunks` (changes or a saved document) and the relay's `heads`.
pub fn feed_message(heads: &[ChangeHash], chunks: Vec<Vec<u8>>) -> Vec<u8> {
    let mut heads = heads.to_vec();
    heads.sort();
    let mut flags = MessageFlags::new();
    flags.set(MessageFlags::SUPPORTS_SYNC_RESET);
    sync::Message {
        heads,
        need: Vec::new(),
        have: Vec::new(),
        changes: chunks.into(),
        flags: Some(flags),
        version: MessageVersion::V2,
    }
    .encode()
}

/// The facts an order document holds, or why it has not the shape of an order.
pub fn order_facts(doc: &AutoCommit) -> Result<OrderFacts, String> {
    let order: Order = onsite_domain::doc::read(doc).map_err(|e| e.to_string())?;
    Ok(OrderFacts::of(&order))
}

fn reject(doc: &DocId, code: Code, message: String) -> DocRejection {
    DocRejection {
        doc: doc.clone(),
        code,
        message,
    }
}

/// What access control looked up during one request, each at most once: the facts of orders
/// and the centres of documents.
#[derive(Debug, Default)]
pub(crate) struct Lookups {
    orders: BTreeMap<String, Option<OrderFacts>>,
    centres: BTreeMap<DocId, Option<String>>,
}

/// Facts of the order governing `doc`, looked up once per request.
fn facts_for<S: DocStore>(
    store: &mut S,
    cache: &mut Lookups,
    doc: &DocId,
) -> Result<Option<OrderFacts>, S::Error> {
    let Some(order_id) = governing_order(doc) else {
        return Ok(None);
    };
    if let Some(f) = cache.orders.get(order_id) {
        return Ok(f.clone());
    }
    let order = DocId::Order(order_id.to_owned());
    let meta = store.meta(&order)?;
    let f = meta.as_ref().and_then(|m| m.order.clone());
    cache.orders.insert(order_id.to_owned(), f.clone());
    if let Some(m) = meta {
        cache.centres.insert(order, m.centre);
    }
    Ok(f)
}

/// The centre `doc` belongs to as stored, or the one it gets from `who` when first stored
/// ([`centre_of_new`]); a visit's is its order's. Looked up once per request.
fn centre_for<S: DocStore>(
    store: &mut S,
    cache: &mut Lookups,
    who: &Principal,
    doc: &DocId,
) -> Result<Option<String>, S::Error> {
    if company_wide(doc) {
        return Ok(None);
    }
    if let Some(c) = cache.centres.get(doc) {
        return Ok(c.clone());
    }
    let order_centre = match doc {
        DocId::Visit { order_id, .. } => {
            let order = DocId::Order(order_id.clone());
            facts_for(store, cache, doc)?;
            cache.centres.get(&order).cloned().flatten()
        }
        _ => None,
    };
    // A visit with its order stored has the order's centre: its own row is not read.
    let centre = match order_centre {
        Some(c) => Some(c),
        None => match store.meta(doc)? {
            Some(m) => m.centre,
            None => {
                let technician = match doc {
                    DocId::Profile(t) | DocId::Ledger(t) => store.user_centre(t)?,
                    _ => None,
                };
                centre_of_new(doc, who, None, technician.as_deref())
            }
        },
    };
    cache.centres.insert(doc.clone(), centre.clone());
    Ok(centre)
}

/// What `who` may do with `doc` (its order's facts and its centre looked up through `cache`).
pub(crate) fn access_to<S: DocStore>(
    store: &mut S,
    cache: &mut Lookups,
    who: &Principal,
    doc: &DocId,
) -> Result<Access, S::Error> {
    let facts = facts_for(store, cache, doc)?;
    let centre = centre_for(store, cache, who, doc)?;
    Ok(access(who, doc, facts.as_ref(), centre.as_deref()))
}

/// A document the request covered, with its sync state for the Automerge reply.
struct Applied {
    doc: DocId,
    copy: AutoCommit,
    state: sync::State,
}

/// An incoming message that was not refused: the reply owed, and the new changes to store (none
/// when the message brought nothing new) with, for an order, the order before and after them.
struct Accepted {
    applied: Applied,
    write: Option<DocWrite>,
    order: Option<OrderChange>,
    /// For a visit: as stored before the request (`None` when new).
    visit_before: Option<Arc<Visit>>,
    /// The stored heads the copy was loaded from (`None`: the document was new).
    loaded: Option<Vec<ChangeHash>>,
}

/// Steps 1 and 2 of a request, done before the commit: every message decoded, applied to an
/// in-memory copy and checked. Holds no claim on the store: the relay runs it on a reader of its
/// own, so loading and merging Automerge data never holds the lock other requests need, and
/// [`finish`] then commits only if the documents are still as they were loaded.
pub struct Prepared {
    accepted: Vec<Accepted>,
    rejected: Vec<DocRejection>,
}

impl Prepared {
    /// Whether [`finish`] will store nothing (a pull, or documents sent without new changes):
    /// then it only reads, and a relay may run it on a reader.
    pub fn writes_nothing(&self) -> bool {
        self.accepted.iter().all(|a| a.write.is_none())
    }
}

/// Handle one sync request on one store. See the module docs for the order of work.
pub fn handle<S: DocStore>(
    store: &mut S,
    caller: &Caller,
    req: &SyncRequest,
    limits: &Limits,
    now_ms: i64,
) -> Result<Handled, HandleError<S::Error>> {
    for _ in 0..PREPARE_ATTEMPTS {
        let prepared = prepare(store, caller, req, limits, now_ms)?;
        if let Some(handled) = finish(store, caller, req, prepared, limits, now_ms)? {
            return Ok(handled);
        }
    }
    Err(SyncError::Contended.into())
}

/// How often a request is prepared again because its documents changed meanwhile before the
/// relay answers [`SyncError::Contended`] (the device sends it again later).
pub const PREPARE_ATTEMPTS: usize = 4;

/// Steps 1 and 2 on `store` as it is now (see [`Prepared`]).
pub fn prepare<S: DocStore>(
    store: &mut S,
    caller: &Caller,
    req: &SyncRequest,
    limits: &Limits,
    now_ms: i64,
) -> Result<Prepared, HandleError<S::Error>> {
    let head = store.head_seq().map_err(HandleError::Storage)?;
    if req.cursor > head {
        return Err(SyncError::CursorAhead {
            cursor: req.cursor,
            head,
        }
        .into());
    }
    // 1. decode
    let incoming = decode_request(req)?;
    // 2. apply
    let mut facts_cache = Lookups::default();
    let mut rejected = Vec::new();
    let mut accepted = Vec::new();
    for msg in incoming {
        match apply(store, &mut facts_cache, &caller.principal, msg, limits)? {
            Err(r) => rejected.push(r),
            Ok(a) => accepted.push(a),
        }
    }
    let mut refused = order_refusals(store, &accepted, now_ms).map_err(HandleError::Storage)?;
    refused.extend(visit_refusals(store, &accepted).map_err(HandleError::Storage)?);
    accepted.retain(|a| !refused.iter().any(|r| r.doc == a.applied.doc));
    rejected.extend(refused);
    Ok(Prepared { accepted, rejected })
}

/// Steps 3 and 4 on the store every commit goes through: `None` when a document of the request
/// changed since it was prepared, or an order number it gives out was taken meanwhile, or the
/// caller may no longer write a document (prepare again); else commit and answer.
pub fn finish<S: DocStore>(
    store: &mut S,
    caller: &Caller,
    req: &SyncRequest,
    prepared: Prepared,
    limits: &Limits,
    now_ms: i64,
) -> Result<Option<Handled>, HandleError<S::Error>> {
    let mut facts_cache = Lookups::default();
    if !still_current(
        store,
        &mut facts_cache,
        &caller.principal,
        &prepared.accepted,
    )
    .map_err(HandleError::Storage)?
    {
        return Ok(None);
    }
    let Prepared { accepted, rejected } = prepared;
    let head_before = store.head_seq().map_err(HandleError::Storage)?;
    let mut applied = Vec::new();
    let mut writes = Vec::new();
    let mut read_only = Vec::new();
    for a in accepted {
        if a.write.is_none() {
            read_only.push((a.applied.doc.clone(), a.loaded));
        }
        applied.push(a.applied);
        writes.extend(a.write);
    }
    // 3. commit
    set_readers(store, &mut facts_cache, &mut writes).map_err(HandleError::Storage)?;
    let committed = commit(store, caller, &writes, &facts_cache, now_ms)?;
    let head = committed.as_ref().map_or(head_before, |c| c.head);
    // 4. answer: replies for the documents sent, then the feed
    let mut mentioned: BTreeSet<DocId> = rejected.iter().map(|r| r.doc.clone()).collect();
    let moved = moved_since_prepared(store, read_only).map_err(HandleError::Storage)?;
    let mut docs = Vec::new();
    for mut a in applied {
        if !moved.contains(&a.doc) {
            mentioned.insert(a.doc.clone());
        }
        if let Some(m) = a.copy.sync().generate_sync_message(&mut a.state) {
            docs.push(DocMessage {
                doc: a.doc,
                message: m.encode(),
            });
        }
    }
    let (plan, snapshot) = match snapshot::first_sync(req, &caller.principal) {
        Some(window) => {
            let page = snapshot::page(
                store,
                &mut facts_cache,
                &caller.principal,
                window,
                req.snapshot.as_deref(),
                head,
                &mentioned,
                limits,
                now_ms,
                req.count_remaining,
            )?;
            (page.plan, page.position)
        }
        None => {
            let plan = plan(
                store,
                &mut facts_cache,
                &caller.principal,
                req.cursor,
                head,
                &mentioned,
                limits,
                req.count_remaining,
            )?;
            (plan, None)
        }
    };
    docs.extend(feed_docs(store, plan.sends)?);
    Ok(Some(Handled {
        response: SyncResponse {
            snapshot,
            cursor: plan.cursor,
            more: plan.more,
            remaining: req.count_remaining.then_some(plan.remaining),
            docs,
            grants: plan.grants,
            revocations: plan.revocations,
            rejected,
            stored_changes: head - head_before,
            // The relay's API layer adds its database's epoch.
            epoch: None,
        },
        committed,
    }))
}

/// The documents of `read_only` (sent without new changes, with the heads they were loaded at)
/// that others changed since the request was prepared: the Automerge reply, made from the
/// prepared copy, lacks those changes, so the feed must send them as for any document (found by
/// `instance_kill.rs`: a dispatcher's device acknowledging a visit while its technician synced
/// lost the technician's changes committed in between, its cursor already past them).
fn moved_since_prepared<S: DocStore>(
    store: &mut S,
    read_only: Vec<(DocId, Option<Vec<ChangeHash>>)>,
) -> Result<BTreeSet<DocId>, S::Error> {
    let mut moved = BTreeSet::new();
    for (doc, loaded) in read_only {
        if store.meta(&doc)?.map(|m| m.heads) != loaded {
            moved.insert(doc);
        }
    }
    Ok(moved)
}

/// Whether what [`prepare`] decided still holds on `store`: every document it wrote is stored
/// at the heads it was loaded from, the caller may still write it, and every order number it
/// gives out is still free.
fn still_current<S: DocStore>(
    store: &mut S,
    facts_cache: &mut Lookups,
    who: &Principal,
    accepted: &[Accepted],
) -> Result<bool, S::Error> {
    for a in accepted.iter().filter(|a| a.write.is_some()) {
        let doc = &a.applied.doc;
        let heads = store.meta(doc)?.map(|m| m.heads);
        if heads != a.loaded || !access_to(store, facts_cache, who, doc)?.can_write() {
            return Ok(false);
        }
        if let Some(o) = &a.order
            && o.before
                .as_ref()
                .is_none_or(|b| b.order_no != o.after.order_no)
            && store
                .orders_numbered(&o.after.order_no)?
                .iter()
                .any(|d| d != doc)
        {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Step 2 for one document: access check, apply the message to an in-memory copy, and refuse
/// the new changes whole if the user may not write or the document would be too large or no
/// longer an order (the inner `Err`).
fn apply<S: DocStore>(
    store: &mut S,
    facts_cache: &mut Lookups,
    who: &Principal,
    incoming: Incoming,
    limits: &Limits,
) -> Result<Result<Accepted, DocRejection>, HandleError<S::Error>> {
    let Incoming {
        doc: doc_id,
        message: msg,
        ops,
    } = incoming;
    let acc = access_to(store, facts_cache, who, &doc_id).map_err(HandleError::Storage)?;
    if acc == Access::None {
        return Ok(Err(not_found(&doc_id)));
    }
    if ops > admit::MESSAGE_OPS as u64 {
        return Ok(Err(too_costly(&doc_id, ops)));
    }
    let (stored, mut copy) = stored_copy(store, &doc_id)?;
    let before = copy.get_heads();
    let order_before = match (&doc_id, &stored) {
        (DocId::Order(_), Some(_)) => doc::read::<Order>(&copy).ok(),
        _ => None,
    };
    let visit_before = match (&doc_id, &stored) {
        (DocId::Visit { .. }, Some(s)) => visit_as_stored(store, &doc_id, &copy, &s.meta.heads),
        _ => None,
    };
    let bonus_before = match (&doc_id, &stored) {
        (DocId::Bonus, Some(_)) => doc::read::<BonusVersions>(&copy).ok(),
        _ => None,
    };
    let mut state = sync::State::new();
    copy.sync()
        .receive_sync_message(&mut state, msg)
        .map_err(|e| SyncError::Malformed {
            doc: doc_id.to_string(),
            reason: e.to_string(),
        })?;
    let new = new_changes(&mut copy, &before);
    if new.is_empty() {
        if stored.is_none() {
            return Ok(Err(not_found(&doc_id)));
        }
        return Ok(Ok(Accepted {
            applied: Applied {
                doc: doc_id,
                copy,
                state,
            },
            write: None,
            order: None,
            visit_before: None,
            loaded: stored.map(|s| s.meta.heads),
        }));
    }
    if !acc.can_write() {
        return Ok(Err(reject(
            &doc_id,
            Code::AccessReadOnly,
            format!(
                "'{doc_id}' is read-only for a {}; {} change(s) were refused and nothing was stored — discard them on the device",
                who.role,
                new.len()
            ),
        )));
    }
    let visit_after = match &doc_id {
        DocId::Visit { .. } => match crate::admit::visit_shape(&doc_id, &copy) {
            Ok(v) => Some(Arc::new(v)),
            Err(refused) => return Ok(Err(refused)),
        },
        _ => match crate::admit::shape(&doc_id, &copy, bonus_before.as_ref()) {
            Ok(()) => None,
            Err(refused) => return Ok(Err(refused)),
        },
    };
    let loaded = stored.as_ref().map(|s| s.meta.heads.clone());
    let before_order = stored.and_then(|s| s.meta.order);
    let centre = centre_for(store, facts_cache, who, &doc_id).map_err(HandleError::Storage)?;
    Ok(write_of(
        &doc_id,
        &mut copy,
        new,
        before_order.as_ref(),
        visit_after,
        centre,
        limits,
    )
    .map(|(write, after)| Accepted {
        order: after.map(|after| OrderChange {
            doc: doc_id.clone(),
            before: order_before,
            after,
            centre: write.meta.centre.clone(),
        }),
        visit_before,
        loaded,
        applied: Applied {
            doc: doc_id,
            copy,
            state,
        },
        write: Some(write),
    }))
}

/// Step 2b: the relay's rules on the request's order documents ([`crate::orders`]), with the
/// technician profiles the request itself carries taking precedence over the stored ones.
fn order_refusals<S: DocStore>(
    store: &mut S,
    accepted: &[Accepted],
    now_ms: i64,
) -> Result<Vec<DocRejection>, S::Error> {
    let changes: Vec<OrderChange> = accepted.iter().filter_map(|a| a.order.clone()).collect();
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    let profiles = accepted
        .iter()
        .filter(|a| a.write.is_some() && matches!(a.applied.doc, DocId::Profile(_)))
        .filter_map(|a| doc::read::<TechnicianProfile>(&a.applied.copy).ok())
        .map(|p| (p.technician_id.clone(), p))
        .collect();
    orders::refusals(store, &changes, &profiles, now_ms)
}

fn too_costly(doc: &DocId, ops: u64) -> DocRejection {
    reject(
        doc,
        Code::DocumentTooLarge,
        format!(
            "the changes to '{doc}' carry {ops} operations, more than the {} one message may carry; nothing of '{doc}' was applied or stored — shorten the text on the device",
            admit::MESSAGE_OPS
        ),
    )
}

/// Step 2c: the domain's rules on the request's changed visits ([`crate::admit`]), against
/// their orders and the checklist templates — the request's own copies when it carries them.
fn visit_refusals<S: DocStore>(
    store: &mut S,
    accepted: &[Accepted],
) -> Result<Vec<DocRejection>, S::Error> {
    let request_orders: BTreeMap<&str, Arc<Order>> = accepted
        .iter()
        .filter_map(|a| a.order.as_ref())
        .map(|o| (o.after.order_id.as_str(), Arc::new(o.after.clone())))
        .collect();
    let request_library = accepted
        .iter()
        .find(|a| a.write.is_some() && a.applied.doc == DocId::Templates)
        .and_then(|a| doc::read::<TemplateLibrary>(&a.applied.copy).ok())
        .map(Arc::new);
    let writes_visits = accepted
        .iter()
        .any(|a| a.write.is_some() && matches!(a.applied.doc, DocId::Visit { .. }));
    // The stored library is read once per request (and kept between requests, [`Views`]):
    // hydrating it is the most expensive part of checking a visit.
    let request_library = match request_library {
        None if writes_visits => Some(crate::admit::stored_library(store)?),
        library => library,
    };
    let mut refused = Vec::new();
    for a in accepted.iter().filter(|a| a.write.is_some()) {
        let DocId::Visit { order_id, .. } = &a.applied.doc else {
            continue;
        };
        let Some(View::Visit(after)) = a.write.as_ref().and_then(|w| w.view.as_ref()) else {
            continue;
        };
        let context = crate::admit::VisitContext {
            order: request_orders.get(order_id.as_str()).cloned(),
            library: request_library.clone(),
        };
        if let Err(r) = crate::admit::visit(
            store,
            &a.applied.doc,
            a.visit_before.as_deref(),
            after,
            context,
        )? {
            refused.push(r);
        }
    }
    Ok(refused)
}

fn not_found(doc: &DocId) -> DocRejection {
    reject(
        doc,
        Code::DocumentNotFound,
        format!("'{doc}' does not exist"),
    )
}

/// The write storing `new` changes of `copy`, or why it is refused: too large, or (for an order)
/// no longer an order. Carries the read-access changes an order's new facts imply, and returns
/// the order as it will be stored. `visit` is `copy` read as a visit, when it is one.
fn write_of(
    doc_id: &DocId,
    copy: &mut AutoCommit,
    new: Vec<NewChange>,
    before_order: Option<&OrderFacts>,
    visit: Option<Arc<Visit>>,
    centre: Option<String>,
    limits: &Limits,
) -> Result<(DocWrite, Option<Order>), DocRejection> {
    let bytes = onsite_domain::saved::for_storage(copy, limits.max_doc_bytes);
    if bytes.len() as u64 > limits.max_doc_bytes {
        return Err(reject(
            doc_id,
            Code::DocumentTooLarge,
            format!(
                "'{doc_id}' would grow to {} bytes, over the relay's limit of {} bytes; move large content (photos) to attachments",
                bytes.len(),
                limits.max_doc_bytes
            ),
        ));
    }
    let mut meta = DocMeta {
        heads: copy.get_heads(),
        size: bytes.len() as u64,
        order: None,
        centre,
        record_hash: visit
            .as_ref()
            .and_then(|v| v.signature.as_ref())
            .map(|s| s.record_hash.clone()),
    };
    let mut access_changes = Vec::new();
    let mut order = None;
    if let DocId::Order(_) = doc_id {
        let o: Order = doc::read(copy).map_err(|reason| {
            reject(
                doc_id,
                Code::DocumentUnexpectedShape,
                format!(
                    "'{doc_id}' would no longer be a valid order ({reason}); nothing was stored"
                ),
            )
        })?;
        let f = OrderFacts::of(&o);
        access_changes = order_access_changes(before_order, &f);
        meta.order = Some(f);
        order = Some(o);
    }
    let view = match (&order, visit) {
        (Some(o), _) => Some(View::Order(Arc::new(o.clone()))),
        (None, Some(v)) => Some(View::Visit(v)),
        (None, None) => None,
    };
    Ok((
        DocWrite {
            doc: doc_id.clone(),
            changes: new,
            bytes,
            meta,
            access: access_changes,
            view,
            readers: Readers::Technicians(Vec::new()),
        },
        order,
    ))
}

/// Document `doc_id` as stored and an in-memory copy of it (empty when it is new).
fn stored_copy<S: DocStore>(
    store: &mut S,
    doc_id: &DocId,
) -> Result<(Option<StoredDoc>, AutoCommit), HandleError<S::Error>> {
    let stored = store.load(doc_id).map_err(HandleError::Storage)?;
    let copy = match &stored {
        Some(s) => AutoCommit::load(&s.bytes).map_err(|e| {
            HandleError::Refused(SyncError::BadState {
                doc: doc_id.to_string(),
                reason: format!("stored document does not load: {e}"),
            })
        })?,
        None => AutoCommit::new(),
    };
    Ok((stored, copy))
}

/// The changes `copy` holds beyond `before`, in causal order.
fn new_changes(copy: &mut AutoCommit, before: &[ChangeHash]) -> Vec<NewChange> {
    copy.get_changes(before)
        .into_iter()
        .map(|c| NewChange {
            hash: c.hash(),
            bytes: c.raw_bytes().to_vec(),
        })
        .collect()
}

/// The visit `doc_id` as stored at `heads` (loaded as `copy`): from the store's cache when it
/// kept it (the visit written by the device's previous sync), else read from `copy`.
fn visit_as_stored<S: DocStore>(
    store: &S,
    doc_id: &DocId,
    copy: &AutoCommit,
    heads: &[ChangeHash],
) -> Option<Arc<Visit>> {
    if let Some(hit) = store.views().and_then(|v| v.get::<Visit>(doc_id, heads)) {
        return Some(hit);
    }
    doc::read::<Visit>(copy).ok().map(Arc::new)
}

/// Who of the technicians reads each write: by the facts its governing order has after the
/// commit (the request's own order write, else the order as stored).
fn set_readers<S: DocStore>(
    store: &mut S,
    facts_cache: &mut Lookups,
    writes: &mut [DocWrite],
) -> Result<(), S::Error> {
    let written: BTreeMap<String, OrderFacts> = writes
        .iter()
        .filter_map(|w| match (&w.doc, &w.meta.order) {
            (DocId::Order(id), Some(f)) => Some((id.clone(), f.clone())),
            _ => None,
        })
        .collect();
    for w in writes.iter_mut() {
        let facts = match governing_order(&w.doc).and_then(|o| written.get(o)) {
            Some(f) => Some(f.clone()),
            None => facts_for(store, facts_cache, &w.doc)?,
        };
        w.readers = technician_readers(&w.doc, facts.as_ref());
    }
    Ok(())
}

/// Step 3: store every accepted write in one commit; `None` when there is nothing to store.
fn commit<S: DocStore>(
    store: &mut S,
    caller: &Caller,
    writes: &[DocWrite],
    facts_cache: &Lookups,
    now_ms: i64,
) -> Result<Option<Committed>, HandleError<S::Error>> {
    if writes.is_empty() {
        return Ok(None);
    }
    let origin = Origin {
        user_id: caller.principal.user_id.clone(),
        device_id: caller.device_id.clone(),
        at_ms: now_ms,
    };
    let head = store
        .commit(writes, &origin)
        .map_err(HandleError::Storage)?;
    if let Some(views) = store.views() {
        for w in writes {
            if let Some(view) = &w.view {
                views.put(w.doc.clone(), w.meta.heads.clone(), view.clone());
            }
        }
    }
    Ok(Some(Committed {
        head,
        docs: writes
            .iter()
            .map(|w| {
                let f = match &w.doc {
                    DocId::Order(_) => w.meta.order.clone(),
                    DocId::Visit { order_id, .. } => {
                        facts_cache.orders.get(order_id.as_str()).cloned().flatten()
                    }
                    _ => None,
                };
                (w.doc.clone(), f)
            })
            .collect(),
        access_users: writes
            .iter()
            .flat_map(|w| w.access.iter().map(|(u, _)| u.clone()))
            .collect(),
        centres: centres_of(writes),
    }))
}

/// Changes read from the store at a time while a feed page is gathered.
const FEED_READ: usize = 1024;

/// Step 4, the feed: what changed for the user in `(cursor, head]`, by current read access.
/// Only the changes up to the page's end are read (all of them when `count_rest`), and read
/// access is looked up (one `meta` per governing order) only for the documents the plan asks
/// about, each once.
#[allow(clippy::too_many_arguments)]
fn plan<S: DocStore>(
    store: &mut S,
    facts_cache: &mut Lookups,
    who: &Principal,
    cursor: u64,
    head: u64,
    mentioned: &BTreeSet<DocId>,
    limits: &Limits,
    count_rest: bool,
) -> Result<FeedPlan, HandleError<S::Error>> {
    // At least one document a page, or a feed would never move. The documents the request
    // answered and those the user can no longer read are skipped, so a page reads past them; a
    // page that comes out short only means one more request.
    let max_docs = limits.max_docs_per_response.max(1);
    let docs = (!count_rest).then_some(max_docs + mentioned.len());
    let (changed, upto) =
        changed_docs(store, who, cursor, head, docs).map_err(HandleError::Storage)?;
    let events = store
        .access_events(&who.user_id, cursor, upto)
        .map_err(HandleError::Storage)?;
    let mut readable: BTreeMap<DocId, bool> = BTreeMap::new();
    let mut failed = None;
    let mut plan = plan_feed(
        cursor,
        upto,
        &changed,
        &events,
        mentioned,
        |d| {
            if let Some(r) = readable.get(d) {
                return *r;
            }
            match access_to(store, facts_cache, who, d) {
                Ok(a) => {
                    let r = a.can_read();
                    readable.insert(d.clone(), r);
                    r
                }
                Err(e) => {
                    failed.get_or_insert(e);
                    false
                }
            }
        },
        Paging {
            max_docs,
            count_rest,
        },
    );
    if upto < head && !plan.more {
        // The page took every document read; its cursor is where the reading stopped.
        plan.more = true;
    }
    match failed {
        Some(e) => Err(HandleError::Storage(e)),
        None => Ok(plan),
    }
}

/// The documents with changes in `(after, upto]` that `who`'s feed lists, by first such change:
/// the first `docs` of them (every one with `None`), read [`FEED_READ`] changes at a time, and
/// the sequence number the list is complete up to (`upto`, or just before the first document
/// left out).
fn changed_docs<S: DocStore>(
    store: &mut S,
    who: &Principal,
    after: u64,
    upto: u64,
    docs: Option<usize>,
) -> Result<(Vec<FeedEntry>, u64), S::Error> {
    let reader = match who.role {
        Role::Technician => Some(FeedReader::Technician(&who.user_id)),
        Role::Dispatcher => Some(FeedReader::Centre(&who.centre)),
        Role::Admin => None,
    };
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut from = after;
    loop {
        let changes = store.feed_changes(reader, from, upto, FEED_READ)?;
        let exhausted = changes.len() < FEED_READ;
        for change in changes {
            from = change.seq;
            if seen.contains(&change.doc) {
                continue;
            }
            if docs.is_some_and(|n| out.len() == n) {
                return Ok((out, change.seq - 1));
            }
            seen.insert(change.doc.clone());
            out.push(change);
        }
        if exhausted {
            return Ok((out, upto));
        }
    }
}

/// The feed's documents as sync messages: whole documents or their changes since a sequence.
fn feed_docs<S: DocStore>(
    store: &mut S,
    sends: Vec<FeedSend>,
) -> Result<Vec<DocMessage>, HandleError<S::Error>> {
    let mut docs = Vec::new();
    for send in sends {
        // A whole document's heads come with its bytes (one read of its row, not two).
        let (heads, chunks) = match send.since {
            Since::Start => match store.load(&send.doc).map_err(HandleError::Storage)? {
                Some(s) => (s.meta.heads, vec![s.bytes]),
                None => continue,
            },
            Since::After(seq) => {
                let Some(meta) = store.meta(&send.doc).map_err(HandleError::Storage)? else {
                    continue;
                };
                let chunks = store
                    .changes_after(&send.doc, seq)
                    .map_err(HandleError::Storage)?;
                (meta.heads, chunks)
            }
        };
        docs.push(DocMessage {
            doc: send.doc,
            message: feed_message(&heads, chunks),
        });
    }
    Ok(docs)
}

/// From where a feed document is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// The whole document (first sync, or newly granted).
    Start,
    /// Its changes numbered after this sequence number.
    After(u64),
}

/// One document the feed sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedSend {
    pub doc: DocId,
    pub since: Since,
}

/// What the feed answers for a cursor.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeedPlan {
    pub sends: Vec<FeedSend>,
    pub grants: Vec<DocId>,
    pub revocations: Vec<DocId>,
    pub cursor: u64,
    pub more: bool,
    /// Documents left for later pages (0 when `more` is false): readable, not answered by the
    /// request's own messages, each counted once. Counted only when [`Paging::count_rest`].
    pub remaining: u64,
}

/// How much of the feed one answer plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// Most documents sent in one answer.
    pub max_docs: usize,
    /// Go on past a full page to count the documents left (every one's read access is looked
    /// up); else stop at the first document that does not fit.
    pub count_rest: bool,
}

/// Decide what the feed sends for `cursor` when the relay is at `head`.
///
/// `changed` lists documents with changes in `(cursor, head]` by first change; `events` the user's
/// access events in the same range; `mentioned` the documents the request itself covered (their
/// Automerge reply already carries everything); `can_read` the user's current read access (asked
/// at most once per document it needs). At most `paging.max_docs` documents are sent; then `more`
/// is set and the cursor stops before the first document left out, so the next request picks up
/// there; with `paging.count_rest` the documents left are counted in `remaining`.
pub fn plan_feed(
    cursor: u64,
    head: u64,
    changed: &[FeedEntry],
    events: &[AccessEvent],
    mentioned: &BTreeSet<DocId>,
    mut can_read: impl FnMut(&DocId) -> bool,
    paging: Paging,
) -> FeedPlan {
    // Documents with a grant in range; only those still readable are sent whole (checked below,
    // where every sent document's access is checked anyway).
    let granted: BTreeSet<&DocId> = events
        .iter()
        .filter(|e| e.granted)
        .map(|e| &e.doc)
        .collect();
    // Items in sequence order: (seq, doc, Some(granted) for access events).
    let mut items: Vec<(u64, &DocId, Option<bool>)> = changed
        .iter()
        .map(|e| (e.seq, &e.doc, None))
        .chain(events.iter().map(|e| (e.seq, &e.doc, Some(e.granted))))
        .collect();
    items.sort_by_key(|(seq, _, _)| *seq);

    let mut plan = FeedPlan {
        cursor: head,
        ..FeedPlan::default()
    };
    let mut sent: BTreeSet<&DocId> = BTreeSet::new();
    let mut left: BTreeSet<&DocId> = BTreeSet::new();
    let mut listed_grant: BTreeSet<&DocId> = BTreeSet::new();
    let mut listed_revoke: BTreeSet<&DocId> = BTreeSet::new();
    for (seq, doc, event) in items {
        if event == Some(false) {
            if !plan.more && !can_read(doc) && listed_revoke.insert(doc) {
                plan.revocations.push(doc.clone());
            }
            continue;
        }
        if sent.contains(doc) || left.contains(doc) || !can_read(doc) {
            continue;
        }
        let is_grant = granted.contains(doc);
        if mentioned.contains(doc) {
            if !plan.more && is_grant && listed_grant.insert(doc) {
                plan.grants.push(doc.clone());
            }
            continue;
        }
        if plan.more || sent.len() >= paging.max_docs {
            if !plan.more {
                plan.cursor = seq - 1;
                plan.more = true;
            }
            if !paging.count_rest {
                break;
            }
            left.insert(doc);
            continue;
        }
        sent.insert(doc);
        let since = if is_grant || cursor == 0 {
            Since::Start
        } else {
            Since::After(cursor)
        };
        if is_grant && listed_grant.insert(doc) {
            plan.grants.push(doc.clone());
        }
        plan.sends.push(FeedSend {
            doc: doc.clone(),
            since,
        });
    }
    plan.remaining = left.len() as u64;
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(n: u32) -> DocId {
        DocId::Order(format!("o-{n}"))
    }

    fn page(max_docs: usize) -> Paging {
        Paging {
            max_docs,
            count_rest: false,
        }
    }

    fn counting(max_docs: usize) -> Paging {
        Paging {
            max_docs,
            count_rest: true,
        }
    }

    #[test]
    fn feed_sends_changes_since_cursor_and_skips_unreadable_and_mentioned() {
        let changed = vec![
            FeedEntry { doc: o(1), seq: 11 },
            FeedEntry { doc: o(2), seq: 12 },
            FeedEntry { doc: o(3), seq: 13 },
        ];
        let mentioned = BTreeSet::from([o(3)]);
        let plan = plan_feed(10, 20, &changed, &[], &mentioned, |d| *d != o(2), page(10));
        assert_eq!(
            plan.sends,
            vec![FeedSend {
                doc: o(1),
                since: Since::After(10)
            }],
            "o-2 is unreadable, o-3 was answered by its own message"
        );
        assert_eq!((plan.cursor, plan.more), (20, false));
    }

    #[test]
    fn grants_send_whole_documents_and_revocations_are_listed_when_unreadable() {
        let events = vec![
            AccessEvent {
                seq: 5,
                doc: o(7),
                granted: true,
            },
            AccessEvent {
                seq: 6,
                doc: o(8),
                granted: false,
            },
        ];
        let plan = plan_feed(
            4,
            9,
            &[],
            &events,
            &BTreeSet::new(),
            |d| *d == o(7),
            page(10),
        );
        assert_eq!(
            plan.sends,
            vec![FeedSend {
                doc: o(7),
                since: Since::Start
            }]
        );
        assert_eq!(plan.grants, vec![o(7)]);
        assert_eq!(plan.revocations, vec![o(8)]);
    }

    #[test]
    fn paging_stops_before_the_first_document_left_out() {
        let changed: Vec<FeedEntry> = (1..=5)
            .map(|n| FeedEntry {
                doc: o(n),
                seq: 100 + u64::from(n) * 2,
            })
            .collect();
        let plan = plan_feed(100, 200, &changed, &[], &BTreeSet::new(), |_| true, page(2));
        assert_eq!(plan.sends.len(), 2);
        assert!(plan.more);
        assert_eq!(
            plan.cursor, 105,
            "o-3's first change is 106; the cursor stays before it"
        );
    }

    #[test]
    fn a_full_page_counts_the_readable_documents_left_once_each() {
        let changed: Vec<FeedEntry> = (1..=6)
            .map(|n| FeedEntry {
                doc: o(n),
                seq: u64::from(n),
            })
            .collect();
        // o-5 was granted later too (an access event after its change), o-4 is unreadable,
        // o-6 was answered by the request's own message.
        let events = vec![AccessEvent {
            seq: 7,
            doc: o(5),
            granted: true,
        }];
        let mentioned = BTreeSet::from([o(6)]);
        let plan = plan_feed(
            0,
            7,
            &changed,
            &events,
            &mentioned,
            |d| *d != o(4),
            counting(2),
        );
        assert_eq!(plan.sends.len(), 2, "o-1 and o-2 fill the page");
        assert!(plan.more);
        assert_eq!(
            plan.remaining, 2,
            "o-3 and o-5 wait; o-4 is unreadable, o-6 answered, o-5's grant is the same document"
        );
        let last = plan_feed(
            2,
            7,
            &changed[2..],
            &events,
            &mentioned,
            |d| *d != o(4),
            counting(2),
        );
        assert_eq!(
            (last.sends.len(), last.more, last.remaining),
            (2, false, 0),
            "the last page sends what the first one counted and leaves nothing"
        );
    }

    #[test]
    fn read_access_is_asked_once_per_document_and_only_for_the_page_unless_counting() {
        let changed: Vec<FeedEntry> = (1..=50)
            .map(|n| FeedEntry {
                doc: o(n),
                seq: u64::from(n),
            })
            .collect();
        let events: Vec<AccessEvent> = (1..=50)
            .map(|n| AccessEvent {
                seq: 50 + u64::from(n),
                doc: o(n),
                granted: true,
            })
            .collect();
        let asked = |paging: Paging| {
            let mut asked = 0;
            let plan = plan_feed(
                0,
                100,
                &changed,
                &events,
                &BTreeSet::new(),
                |_| {
                    asked += 1;
                    true
                },
                paging,
            );
            (plan.sends.len(), plan.remaining, asked)
        };
        assert_eq!(
            asked(counting(10)),
            (10, 40, 50),
            "counting: each of the 50 documents' access is looked up once, its grant asks nothing more"
        );
        assert_eq!(
            asked(page(10)),
            (10, 0, 11),
            "not counting: the plan stops at the first document that does not fit"
        );
    }
}
