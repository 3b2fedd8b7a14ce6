//! One complete sync with the relay: rounds of request/response until quiescent.

use std::collections::BTreeSet;

use onsite_domain::{DocId, retention};
use onsite_store::StoreError;
use onsite_sync::device::{self, PeerState};
use onsite_wire::{SyncRequest, SyncResponse};
use serde::Serialize;

use crate::{ClientError, Relay, Session, SharedStore, lock};

const CURSOR_KEY: &str = "client.cursor";
/// The relay database's epoch as the device last saw it (`SyncResponse::epoch`).
const EPOCH_KEY: &str = "client.relay_epoch";
/// At most this many documents go in one request; the rest follow in the next rounds (after a
/// relay restore a device sends every document it wrote in).
const DOCS_PER_REQUEST: usize = 256;
/// A sync stops after this many rounds even if the relay still says `more`; the next sync
/// continues from the stored cursor.
const MAX_ROUNDS: u32 = 64;
/// Where a windowed first sync is in the relay's snapshot (`SyncResponse::snapshot`).
const SNAPSHOT_KEY: &str = "client.snapshot";
/// The history window this device holds, in days (`0`: the whole history).
const WINDOW_KEY: &str = "client.history_window_days";
/// How long a job fetched from the relay's history stays on the device before the window may
/// evict it again.
pub const FETCHED_HOLD_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub round_trips: u32,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub docs_sent: usize,
    pub docs_received: usize,
    /// Attachments (photos, signature images) uploaded after the documents.
    pub attachments_sent: usize,
    pub revoked: Vec<DocId>,
    /// Documents the relay refused, with its code.
    pub rejected: Vec<(DocId, onsite_domain::Code)>,
    pub cursor: u64,
    /// Documents of the relay's feed applied so far in this sync (answers to the device's own
    /// messages not counted).
    pub feed_received: u64,
    /// The feed's documents in this sync as the relay counted them on the first answer (what
    /// it sent plus what it said was left); raised if more came, and the number received once
    /// the feed is through. `None` when the relay does not count.
    pub feed_total: Option<u64>,
    /// The relay's database was restored from a backup (another epoch, or a feed behind this
    /// device's cursor): this sync re-read the feed from the start and sent again every
    /// document this device wrote in.
    pub resumed_after_restore: bool,
    /// Documents asked for whole in this sync (fetched from the history, or changed on the relay
    /// while this device did not hold them) and received.
    pub fetched: usize,
    /// What the history window removed from the device after the sync.
    pub evicted: onsite_store::Evicted,
}

impl SyncReport {
    /// "n of N" of this sync's feed: documents received so far of the total. `None` while the
    /// relay has not counted or the feed brought nothing.
    pub fn progress(&self) -> Option<(u64, u64)> {
        self.feed_total
            .filter(|t| *t > 0)
            .map(|t| (self.feed_received, t.max(self.feed_received)))
    }
}

fn stored_cursor(store: &SharedStore) -> Result<u64, ClientError> {
    Ok(lock(store)
        .kv_get(CURSOR_KEY)?
        .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0))
}

/// The feed cursor this device has applied up to.
pub fn cursor(store: &SharedStore) -> u64 {
    stored_cursor(store).unwrap_or(0)
}

/// The history window this device holds, in days, for `session`'s user: `None` (the whole
/// history) for a technician — whose feed holds their own jobs only — or when set to 0;
/// otherwise the stored setting or [`retention::DEFAULT_WINDOW_DAYS`].
pub fn history_window(store: &SharedStore, session: &Session) -> Result<Option<u32>, ClientError> {
    if session.role == onsite_wire::Role::Technician {
        return Ok(None);
    }
    let days = lock(store)
        .kv_get(WINDOW_KEY)?
        .and_then(|b| <[u8; 4]>::try_from(b.as_slice()).ok())
        .map_or(retention::DEFAULT_WINDOW_DAYS, u32::from_be_bytes);
    Ok((days > 0).then_some(days.min(retention::MAX_WINDOW_DAYS)))
}

/// Set the history window this device holds (`0`: the whole history). A longer window than the
/// one the device first synced with does not bring older jobs back (fetch them from the
/// history); a shorter one evicts at the next sync.
pub fn set_history_window(store: &SharedStore, days: u32) -> Result<(), ClientError> {
    lock(store).kv_set(WINDOW_KEY, &days.to_be_bytes())?;
    Ok(())
}

pub(crate) fn peer_state(
    store: &onsite_store::Store,
    id: &DocId,
) -> Result<PeerState, ClientError> {
    Ok(match store.sync_state(id)? {
        Some(bytes) => PeerState::decode(id, &bytes)?,
        None => PeerState::new(),
    })
}

/// Sync until quiescent: upload every locally changed document, apply everything the relay sends,
/// and store the new cursor last (so an interrupted sync is simply repeated). `on_round` is told
/// after each round how far the feed has been applied.
pub async fn sync_once(
    store: &SharedStore,
    relay: &Relay,
    session: &Session,
    on_round: impl FnMut(&SyncReport, bool),
) -> Result<SyncReport, ClientError> {
    sync_fetching(store, relay, session, &[], on_round).await
}

/// [`sync_once`], also asking the relay for the documents of `fetch` this device does not hold
/// (jobs found in the relay's history): each is held for [`FETCHED_HOLD_MS`] against the history
/// window. After the sync, the window evicts what it no longer holds.
pub async fn sync_fetching(
    store: &SharedStore,
    relay: &Relay,
    session: &Session,
    fetch: &[DocId],
    mut on_round: impl FnMut(&SyncReport, bool),
) -> Result<SyncReport, ClientError> {
    let token = session.token.as_deref().ok_or(ClientError::NotSignedIn)?;
    let window = history_window(store, session)?;
    let mut report = SyncReport::default();
    let mut skip: BTreeSet<DocId> = BTreeSet::new();
    let mut wanted = not_held(store, fetch)?;
    let mut snapshot_restarted = false;
    let mut prefetched: Option<Prefetch> = None;
    loop {
        let cursor = stored_cursor(store)?;
        let (mut outgoing, held_back) = outgoing(&lock(store), &skip)?;
        report.docs_sent += outgoing.len();
        let sent: BTreeSet<DocId> = outgoing.iter().map(|(id, _)| id.clone()).collect();
        let asked = ask_whole(&mut wanted, &sent, &mut outgoing);
        let mut req = device::build_request(cursor, outgoing);
        // Counting what the feed holds costs the relay a read of every waiting document's
        // access: asked once, on the first request of the sync.
        req.count_remaining = report.round_trips == 0;
        if cursor == 0 {
            req.window_days = window;
            req.snapshot = lock(store)
                .kv_get(SNAPSHOT_KEY)?
                .and_then(|b| String::from_utf8(b).ok());
        }
        let answer = match prefetched.take() {
            Some(p) => p.answer_to(relay, token, &req).await,
            None => relay.sync(token, &req).await,
        };
        if restored(store, &answer, &mut report)? {
            skip.clear();
            continue;
        }
        if !snapshot_restarted && bad_snapshot(&answer) {
            // A position the relay does not know (another relay, a restore): start again.
            snapshot_restarted = true;
            lock(store).kv_delete(SNAPSHOT_KEY)?;
            wanted.extend(asked);
            continue;
        }
        let (resp, traffic) = answer?;
        if resp.more && req.docs.is_empty() {
            prefetched = Some(Prefetch::send(relay, token, next_page(&req, &resp)));
        }
        report.round_trips += 1;
        report.bytes_up += traffic.up;
        report.bytes_down += traffic.down;
        let sent_or_asked: BTreeSet<DocId> = sent.union(&asked).cloned().collect();
        let missing = apply_response(
            &mut lock(store),
            &resp,
            &sent_or_asked,
            &mut skip,
            &mut report,
        )?;
        report.fetched += asked.iter().filter(|d| !missing.contains(*d)).count();
        // A feed document whose earlier changes this device does not hold: asked for whole
        // next (once; asked ones are not asked again).
        wanted.extend(missing.into_iter().filter(|d| !asked.contains(d)));
        let still_pending = lock(store)
            .pending_docs()?
            .into_iter()
            .any(|id| sent.contains(&id) && !skip.contains(&id));
        on_round(&report, resp.more);
        let again = resp.more || still_pending || held_back || !wanted.is_empty();
        if !again || report.round_trips >= MAX_ROUNDS {
            break;
        }
    }
    crate::clock::record(store, relay.observed_offset())?;
    upload_attachments(store, relay, token, &mut report).await?;
    hold_fetched(store, fetch)?;
    if let Some(days) = window {
        let now = crate::now_ms();
        report.evicted = lock(store).evict_history(retention::cutoff(now, days), now)?;
    }
    Ok(report)
}

/// The request for the page after `resp`'s, as the next round builds it when it has nothing to
/// send: the answer's cursor and, while a snapshot is being read, its position.
fn next_page(req: &SyncRequest, resp: &SyncResponse) -> SyncRequest {
    let reading_snapshot = resp.cursor == 0;
    SyncRequest {
        cursor: resp.cursor,
        window_days: req.window_days.filter(|_| reading_snapshot),
        snapshot: resp.snapshot.clone().filter(|_| reading_snapshot),
        ..SyncRequest::default()
    }
}

/// The next page's request, sent while this page's documents are taken in: a first sync is
/// pages of documents, and the relay reads the next one while the device stores this one. Its
/// answer stands for the next round only when that round sends the very same request; otherwise,
/// or when dropped, the request is abandoned.
struct Prefetch {
    req: SyncRequest,
    answer: tokio::task::JoinHandle<Result<(SyncResponse, crate::Traffic), ClientError>>,
}

impl Prefetch {
    fn send(relay: &Relay, token: &str, req: SyncRequest) -> Prefetch {
        let (relay, token, sent) = (relay.clone(), token.to_owned(), req.clone());
        let answer = tokio::spawn(async move { relay.sync(&token, &sent).await });
        Prefetch { req, answer }
    }

    /// The relay's answer to `req`: the prefetched one when it was for the same request.
    async fn answer_to(
        mut self,
        relay: &Relay,
        token: &str,
        req: &SyncRequest,
    ) -> Result<(SyncResponse, crate::Traffic), ClientError> {
        if self.req == *req
            && let Ok(answer) = (&mut self.answer).await
        {
            return answer;
        }
        relay.sync(token, req).await
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.answer.abort();
    }
}

/// The documents of `ids` this device does not hold.
fn not_held(store: &SharedStore, ids: &[DocId]) -> Result<BTreeSet<DocId>, ClientError> {
    let s = lock(store);
    let mut out = BTreeSet::new();
    for id in ids {
        if !s.contains(id)? {
            out.insert(id.clone());
        }
    }
    Ok(out)
}

/// Hold the jobs of the fetched documents against the history window.
fn hold_fetched(store: &SharedStore, fetch: &[DocId]) -> Result<(), ClientError> {
    let until = crate::now_ms() + FETCHED_HOLD_MS;
    let orders: BTreeSet<&str> = fetch
        .iter()
        .filter_map(onsite_sync::access::governing_order)
        .collect();
    let mut s = lock(store);
    for order in orders {
        s.hold_job(order, until)?;
    }
    Ok(())
}

/// Move documents of `wanted` into the request as "send me the whole document" messages, as many
/// as fit beside the outgoing ones; returns those asked for.
fn ask_whole(
    wanted: &mut BTreeSet<DocId>,
    sent: &BTreeSet<DocId>,
    outgoing: &mut Messages,
) -> BTreeSet<DocId> {
    let room = DOCS_PER_REQUEST.saturating_sub(outgoing.len());
    let asked: BTreeSet<DocId> = wanted
        .iter()
        .filter(|d| !sent.contains(*d))
        .take(room)
        .cloned()
        .collect();
    for d in &asked {
        wanted.remove(d);
        outgoing.push((d.clone(), device::request_missing()));
    }
    asked
}

/// Whether the relay refused the request's snapshot position.
fn bad_snapshot(answer: &Result<(SyncResponse, crate::Traffic), ClientError>) -> bool {
    matches!(answer, Err(ClientError::Relay { code, .. }) if *code == onsite_domain::Code::SyncBadSnapshot)
}

/// Sync messages by document.
type Messages = Vec<(DocId, Vec<u8>)>;

/// Whether the relay's answer shows its database was restored from a backup since this device
/// last synced: an epoch other than the stored one, or the relay refusing a cursor beyond its
/// feed (`sync.cursor_ahead`: a restore whose epoch was not renewed). Then, once per sync, the
/// device forgets its cursor, its epoch and what it knew the relay held
/// (`Store::forget_relay`), and the answer is not applied: the sync starts again from cursor 0
/// and sends every document this device wrote in, whose changes the relay keeps where it lacks
/// them — Automerge changes are identified by hash, so nothing is stored twice.
fn restored(
    store: &SharedStore,
    answer: &Result<(SyncResponse, crate::Traffic), ClientError>,
    report: &mut SyncReport,
) -> Result<bool, ClientError> {
    let other_history = match answer {
        Ok((resp, _)) => {
            let stored = lock(store).kv_get(EPOCH_KEY)?;
            matches!((&resp.epoch, stored), (Some(now), Some(was)) if now.as_bytes() != was)
        }
        Err(ClientError::Relay { code, .. }) => *code == onsite_domain::Code::SyncCursorAhead,
        Err(_) => false,
    };
    if !other_history || report.resumed_after_restore {
        return Ok(false);
    }
    let waiting = lock(store).forget_relay(&[CURSOR_KEY, EPOCH_KEY, SNAPSHOT_KEY])?;
    tracing::warn!(
        waiting,
        "the relay's database was restored from a backup: reading the feed from the start and sending every document written here again"
    );
    report.resumed_after_restore = true;
    Ok(true)
}

/// The message for every locally changed document not in `skip` (at most [`DOCS_PER_REQUEST`];
/// the flag says some were held back), with the changes the relay has not confirmed. A document
/// the relay refused as it still is stays unsent (kept and shown on its order) until it
/// changes.
fn outgoing(
    s: &onsite_store::Store,
    skip: &BTreeSet<DocId>,
) -> Result<(Messages, bool), ClientError> {
    let mut out = Vec::new();
    for id in s.pending_docs()? {
        if skip.contains(&id) {
            continue;
        }
        if out.len() == DOCS_PER_REQUEST {
            return Ok((out, true));
        }
        let mut doc = s.load_doc(&id)?;
        if s.refusal(&id)?
            .is_some_and(|r| r.still_applies(&doc.get_heads()))
        {
            continue;
        }
        let state = peer_state(s, &id)?;
        if let Some(msg) = device::outgoing(&mut doc, &state) {
            out.push((id, msg));
        }
    }
    Ok((out, false))
}

/// Apply one answer of the relay: its documents, refusals and revocations, then its cursor
/// (last, so an interrupted round is simply repeated). Documents sent but not answered, and
/// refused ones, go into `skip` for the rest of this sync. Returns the documents this device
/// does not hold that arrived without their earlier changes (changed on the relay after the
/// history window left them out, or after they were evicted): not kept, to be asked for whole.
fn apply_response(
    s: &mut onsite_store::Store,
    resp: &SyncResponse,
    sent: &BTreeSet<DocId>,
    skip: &mut BTreeSet<DocId>,
    report: &mut SyncReport,
) -> Result<BTreeSet<DocId>, ClientError> {
    let missing = crate::receive::documents(s, resp, sent, report)?;
    let answered: BTreeSet<&DocId> = resp.docs.iter().map(|m| &m.doc).collect();
    // Sent but not mentioned this round: do not spin on it.
    skip.extend(sent.iter().filter(|id| !answered.contains(id)).cloned());
    for r in &resp.rejected {
        skip.insert(r.doc.clone());
        report.rejected.push((r.doc.clone(), r.code));
        if let Ok(mut doc) = s.load_doc(&r.doc) {
            let heads = doc.get_heads();
            s.record_refusal(&r.doc, &heads, r.code.as_str(), &r.message, crate::now_ms())?;
        }
    }
    for id in &resp.revocations {
        match s.remove_doc(id) {
            Ok(()) | Err(StoreError::NotFound(_)) => report.revoked.push(id.clone()),
            // Unsynced local work: keep the document; it uploads first and goes next time.
            Err(StoreError::UnsyncedChanges { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    // The cursor with what it goes with, in one commit.
    let cursor = resp.cursor.to_be_bytes();
    let epoch = resp.epoch.as_ref().map(|e| (EPOCH_KEY, Some(e.as_bytes())));
    let positions: Vec<_> = epoch
        .into_iter()
        .chain([
            (SNAPSHOT_KEY, resp.snapshot.as_ref().map(|p| p.as_bytes())),
            (CURSOR_KEY, Some(&cursor[..])),
        ])
        .collect();
    s.kv_write(&positions)?;
    report.cursor = resp.cursor;
    report.feed_total = match (resp.remaining, report.feed_total) {
        (Some(left), _) => Some(report.feed_received + left),
        (None, Some(_)) if !resp.more => Some(report.feed_received),
        (None, total) => total,
    };
    Ok(missing)
}

/// Upload every attachment not yet on the relay (after the documents that reference them).
async fn upload_attachments(
    store: &SharedStore,
    relay: &Relay,
    token: &str,
    report: &mut SyncReport,
) -> Result<(), ClientError> {
    let pending = lock(store).pending_attachments()?;
    for sha in pending {
        let a = lock(store).attachment(&sha)?;
        report.bytes_up += relay.put_attachment(token, &sha, &a.mime, a.bytes).await?;
        lock(store).mark_attachment_synced(&sha)?;
        report.attachments_sent += 1;
    }
    Ok(())
}

/// Make sure attachment `sha256` (e.g. a signature image of a record to print) is on this device,
/// fetching it from the relay if needed. Returns its bytes.
pub async fn fetch_attachment(
    store: &SharedStore,
    relay: &Relay,
    session: &Session,
    sha256: &str,
) -> Result<Vec<u8>, ClientError> {
    if let Ok(a) = lock(store).attachment(sha256) {
        return Ok(a.bytes);
    }
    let token = session.token.as_deref().ok_or(ClientError::NotSignedIn)?;
    let (bytes, mime) = relay.attachment(token, sha256).await?;
    let got = lock(store).put_attachment(&bytes, &mime)?;
    if got != sha256 {
        return Err(ClientError::BadResponse(format!(
            "attachment {sha256} arrived with other bytes ({got})"
        )));
    }
    lock(store).mark_attachment_synced(sha256)?;
    Ok(bytes)
}
