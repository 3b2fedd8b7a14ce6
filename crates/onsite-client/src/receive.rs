//! Taking the documents of a relay answer into the store. Applying a document's message and
//! hydrating the result (what its index rows are read from) need no store and are most of what a
//! first sync costs the device, so for a page of documents they run on worker threads while this
//! thread reads and writes the store; the documents are taken in in the answer's order.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::AssertUnwindSafe;
use std::sync::{Mutex, mpsc};

use automerge::{ActorId, AutoCommit, ChangeHash};
use onsite_domain::DocId;
use onsite_store::{Incoming, Store, StoreError};
use onsite_sync::device::{self, PeerState};
use onsite_wire::{DocMessage, SyncResponse};

use crate::ClientError;
use crate::sync::{SyncReport, peer_state};

/// Received documents taken into the store in one transaction: a first sync receives thousands,
/// and a commit each rewrote the same pages of the store's log again and again; a few dozen at a
/// time keeps the documents held meanwhile few (32 against 16: a first sync of 2,000 documents
/// ~10 % faster, docs/benchmarks.md).
const RECEIVE_BATCH: usize = 32;
/// An answer with fewer documents is taken in on this thread alone: starting the workers would
/// cost more than they save.
const PARALLEL_FROM: usize = 8;
/// Worker threads applying messages.
const WORKERS: usize = 2;
/// Documents handed to the workers and not yet taken in, at most (each is a loaded document): 96
/// keeps the workers busy while this thread commits a batch (32 left them waiting).
const IN_FLIGHT: usize = 96;

/// A document of the answer as the store holds it, with its message.
struct Arriving<'r> {
    id: &'r DocId,
    /// `None`: the store does not hold it; the worker starts it empty, as the store's `actor`'s
    /// (an empty Automerge document costs its making, off the store's thread).
    doc: Option<AutoCommit>,
    actor: ActorId,
    state: PeerState,
    message: &'r [u8],
}

/// A document's changes to take in, with the sync state they leave.
struct Taken {
    doc: Incoming,
    sync_state: Vec<u8>,
    shared_heads: Vec<ChangeHash>,
}

/// What applying a document's message made of it.
enum Prepared {
    Take(Box<Taken>),
    /// A document this device does not hold arrived without its earlier changes.
    Missing,
    /// Nothing of the document arrived (e.g. an answer to a probe): no empty document is kept.
    Nothing,
}

/// Take the documents of `resp` into the store, [`RECEIVE_BATCH`] to a transaction, counting them
/// in `report` (those of `sent` are answers to this device, not feed). Returns the documents
/// this device does not hold that arrived without their earlier changes (not kept).
pub(crate) fn documents(
    s: &mut Store,
    resp: &SyncResponse,
    sent: &BTreeSet<DocId>,
    report: &mut SyncReport,
) -> Result<BTreeSet<DocId>, ClientError> {
    let mut intake = Intake {
        resp,
        sent,
        report,
        batch: Vec::with_capacity(RECEIVE_BATCH),
        missing: BTreeSet::new(),
    };
    if resp.docs.len() < PARALLEL_FROM {
        for m in &resp.docs {
            let arriving = arrive(s, m)?;
            intake.take(s, &m.doc, prepare(arriving)?)?;
        }
    } else {
        in_parallel(s, &resp.docs, |s, id, prepared| {
            intake.take(s, id, prepared?)
        })?;
    }
    intake.flush(s)?;
    Ok(intake.missing)
}

/// Read document `m.doc` and its sync state from the store.
fn arrive<'r>(s: &Store, m: &'r DocMessage) -> Result<Arriving<'r>, ClientError> {
    let doc = match s.load_doc(&m.doc) {
        Ok(d) => Some(d),
        Err(StoreError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    Ok(Arriving {
        id: &m.doc,
        doc,
        actor: s.actor_id().clone(),
        state: peer_state(s, &m.doc)?,
        message: &m.message,
    })
}

/// Apply the message; a document it changed is hydrated ahead of being taken in, and a new one
/// saved as the store keeps it.
fn prepare(a: Arriving<'_>) -> Result<Prepared, ClientError> {
    let Arriving {
        id,
        doc,
        actor,
        mut state,
        message,
    } = a;
    let held = doc.is_some();
    let mut doc = doc.unwrap_or_else(|| AutoCommit::new().with_actor(actor));
    let before = doc.get_heads();
    device::incoming(id, &mut doc, &mut state, message)?;
    if !held && !doc.get_missing_deps(&[]).is_empty() {
        return Ok(Prepared::Missing);
    }
    let heads = doc.get_heads();
    if heads.is_empty() {
        return Ok(Prepared::Nothing);
    }
    Ok(Prepared::Take(Box::new(Taken {
        doc: if heads == before {
            Incoming::from(doc)
        } else if held {
            Incoming::hydrated(id, doc)
        } else {
            Incoming::hydrated_new(id, doc)
        },
        sync_state: state.encode(),
        shared_heads: state.shared_heads().to_vec(),
    })))
}

/// [`arrive`] and [`take`](Intake::take) here, [`prepare`] on the workers, at most [`IN_FLIGHT`]
/// documents apart; `take` gets them in the order of `docs`. The first error stops it (the
/// workers finish what they hold and end).
fn in_parallel(
    s: &mut Store,
    docs: &[DocMessage],
    mut take: impl FnMut(&mut Store, &DocId, Result<Prepared, ClientError>) -> Result<(), ClientError>,
) -> Result<(), ClientError> {
    let (jobs, queue) = mpsc::channel::<(usize, Arriving<'_>)>();
    let queue = Mutex::new(queue);
    let (done, finished) = mpsc::channel::<(usize, Result<Prepared, ClientError>)>();
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            let (queue, done) = (&queue, done.clone());
            scope.spawn(move || {
                as_batch_work();
                while let Ok((i, a)) = next_job(queue) {
                    if done.send((i, prepare_caught(a))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done);
        // Dropped on every way out, so the workers stop.
        let jobs = jobs;
        let mut ready = BTreeMap::new();
        let (mut handed, mut taken) = (0, 0);
        hand_out(s, docs, &jobs, &mut handed, taken)?;
        while taken < docs.len() {
            let (i, prepared) = next_prepared(&queue, &finished)?;
            ready.insert(i, prepared);
            while let Some(prepared) = ready.remove(&taken) {
                take(s, &docs[taken].doc, prepared)?;
                taken += 1;
                // Each document taken makes room for one more: the workers never wait for a
                // run of documents to be taken in.
                hand_out(s, docs, &jobs, &mut handed, taken)?;
            }
        }
        Ok(())
    })
}

/// Hand the workers the next documents of `docs`, up to [`IN_FLIGHT`] ahead of `taken`.
fn hand_out<'r>(
    s: &Store,
    docs: &'r [DocMessage],
    jobs: &mpsc::Sender<(usize, Arriving<'r>)>,
    handed: &mut usize,
    taken: usize,
) -> Result<(), ClientError> {
    while *handed < docs.len() && *handed - taken < IN_FLIGHT {
        let arriving = arrive(s, &docs[*handed])?;
        jobs.send((*handed, arriving))
            .map_err(|_| worker_failed())?;
        *handed += 1;
    }
    Ok(())
}

/// The next document prepared. While none is, this thread prepares one still queued itself
/// rather than wait: with the workers busy or the next document taking long (a large one at the
/// head of the queue), a core would otherwise stand idle.
fn next_prepared<'r>(
    queue: &Mutex<mpsc::Receiver<(usize, Arriving<'r>)>>,
    finished: &mpsc::Receiver<(usize, Result<Prepared, ClientError>)>,
) -> Result<(usize, Result<Prepared, ClientError>), ClientError> {
    match finished.try_recv() {
        Ok(done) => return Ok(done),
        Err(mpsc::TryRecvError::Disconnected) => return Err(worker_failed()),
        Err(mpsc::TryRecvError::Empty) => {}
    }
    // A worker waiting for work holds the lock: then nothing is queued to take.
    let queued = queue.try_lock().ok().and_then(|q| q.try_recv().ok());
    match queued {
        Some((i, a)) => Ok((i, prepare_caught(a))),
        None => finished.recv().map_err(|_| worker_failed()),
    }
}

/// Mark this worker thread as batch work (Linux: `SCHED_BATCH` at the lowest priority): it never
/// preempts the app's other threads when they wake — the thread taking documents in, the
/// network and UI threads — and takes the cores they leave. The thread taking documents in
/// prepares documents itself whenever none is ready ([`next_prepared`]), so on a busy machine a
/// sync slows down at most to one thread's pace, never stalls. On the 2-core bench machine,
/// where the relay runs too, a first sync of 2,000 documents took 2–4 % less time
/// (docs/benchmarks.md). Where the system refuses, the thread runs as it was.
fn as_batch_work() {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::{
            NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy,
            set_thread_priority_and_policy, thread_native_id,
        };
        let batch = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch);
        if let Err(e) =
            set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, batch)
        {
            tracing::debug!("receive worker left at its scheduling policy: {e:?}");
        }
    }
}

/// [`prepare`], a panic answering as an error: the store's thread waits for every answer.
fn prepare_caught(a: Arriving<'_>) -> Result<Prepared, ClientError> {
    std::panic::catch_unwind(AssertUnwindSafe(|| prepare(a)))
        .unwrap_or_else(|_| Err(worker_failed()))
}

fn next_job<'r>(
    queue: &Mutex<mpsc::Receiver<(usize, Arriving<'r>)>>,
) -> Result<(usize, Arriving<'r>), mpsc::RecvError> {
    queue.lock().unwrap_or_else(|p| p.into_inner()).recv()
}

/// A worker panicked applying a message, or stopped without answering.
fn worker_failed() -> ClientError {
    ClientError::BadResponse("applying a message of the relay failed unexpectedly".into())
}

/// The documents of one answer on their way into the store.
struct Intake<'a> {
    resp: &'a SyncResponse,
    sent: &'a BTreeSet<DocId>,
    report: &'a mut SyncReport,
    batch: Vec<(DocId, Box<Taken>)>,
    missing: BTreeSet<DocId>,
}

impl Intake<'_> {
    fn take(&mut self, s: &mut Store, id: &DocId, prepared: Prepared) -> Result<(), ClientError> {
        match prepared {
            Prepared::Missing => {
                self.missing.insert(id.clone());
            }
            Prepared::Nothing => {}
            Prepared::Take(taken) => {
                self.batch.push((id.clone(), taken));
                self.report.docs_received += 1;
                if !self.sent.contains(id) {
                    self.report.feed_received += 1;
                }
                if self.batch.len() == RECEIVE_BATCH {
                    self.flush(s)?;
                }
            }
        }
        Ok(())
    }

    /// Take the batch into the store, all in one transaction (none on an error).
    fn flush(&mut self, s: &mut Store) -> Result<(), ClientError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let resp = self.resp;
        let batch = &mut self.batch;
        s.batch(|b| {
            for (id, t) in batch.drain(..) {
                let received = onsite_store::Received {
                    sync_state: &t.sync_state,
                    shared_heads: &t.shared_heads,
                    refused: resp.rejected.iter().any(|r| r.doc == id),
                };
                b.receive(&id, t.doc, received)?;
            }
            Ok(())
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use onsite_domain::order::Order;
    use onsite_domain::sla::SlaPolicy;
    use onsite_domain::{doc, seed};

    use super::*;

    const NOW: i64 = 1_764_460_800_000;

    /// The message a relay sends for a whole order this device lacks.
    fn whole_order(n: u32) -> (DocId, Vec<u8>) {
        let order = Order::create(seed::order(n, NOW), &SlaPolicy::default(), NOW).unwrap();
        let mut d = doc::create(&order).unwrap();
        let message = device::outgoing(&mut d, &PeerState::new()).expect("a new document");
        (DocId::Order(order.order_id), message)
    }

    fn answer(messages: Vec<(DocId, Vec<u8>)>) -> SyncResponse {
        SyncResponse {
            docs: messages
                .into_iter()
                .map(|(doc, message)| DocMessage { doc, message })
                .collect(),
            ..SyncResponse::default()
        }
    }

    #[test]
    fn a_page_is_taken_in_whole_through_the_workers() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open_in(dir.path()).unwrap();
        let resp = answer((1..=40).map(whole_order).collect());
        let mut report = SyncReport::default();
        let missing = documents(&mut s, &resp, &BTreeSet::new(), &mut report).unwrap();
        assert!(missing.is_empty(), "whole documents lack nothing");
        assert_eq!(
            (report.docs_received, report.feed_received),
            (40, 40),
            "every document of the page is counted as feed"
        );
        assert_eq!(
            s.list_doc_ids().unwrap().len(),
            40,
            "every document of the page is stored"
        );
        let first = &resp.docs[0].doc;
        let stored: Order = s.read(first).unwrap();
        assert_eq!(
            DocId::Order(stored.order_id.clone()),
            *first,
            "a stored order reads back as itself"
        );
    }

    #[test]
    fn while_no_document_is_ready_this_thread_prepares_a_queued_one() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open_in(dir.path()).unwrap();
        let (id, message) = whole_order(1);
        let m = DocMessage { doc: id, message };
        let (jobs, queue) = mpsc::channel();
        let queue = Mutex::new(queue);
        // No worker answers: the only way to a prepared document is this thread's own.
        let (_done, finished) = mpsc::channel();
        jobs.send((7, arrive(&s, &m).unwrap())).unwrap();
        let (i, prepared) = next_prepared(&queue, &finished).unwrap();
        assert_eq!(
            i, 7,
            "the queued document comes back under its place in the answer"
        );
        assert!(
            matches!(prepared, Ok(Prepared::Take(_))),
            "a whole new order is prepared to be taken in"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_worker_runs_as_batch_work() {
        use thread_priority::{NormalThreadSchedulePolicy, ThreadSchedulePolicy};
        let policy = std::thread::spawn(|| {
            as_batch_work();
            thread_priority::thread_schedule_policy()
        })
        .join()
        .unwrap();
        assert_eq!(
            policy.ok(),
            Some(ThreadSchedulePolicy::Normal(
                NormalThreadSchedulePolicy::Batch
            )),
            "a receive worker must not preempt the app's other threads"
        );
    }

    #[test]
    fn a_malformed_message_in_a_page_is_an_error_and_the_workers_stop() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open_in(dir.path()).unwrap();
        let mut messages: Vec<(DocId, Vec<u8>)> = (1..=40).map(whole_order).collect();
        messages[20].1 = b"not a sync message".to_vec();
        let bad = messages[20].0.clone();
        let err = documents(
            &mut s,
            &answer(messages),
            &BTreeSet::new(),
            &mut SyncReport::default(),
        )
        .expect_err("a malformed message fails the answer");
        assert!(
            matches!(&err, ClientError::Sync(onsite_sync::SyncError::Malformed { doc, .. }) if *doc == bad.to_string()),
            "the error names the malformed document: {err:?}"
        );
        let held = s.list_doc_ids().unwrap();
        assert!(
            !held.contains(&bad) && held.len() <= 20,
            "nothing at or after the malformed document is kept: {held:?}"
        );
    }
}
