//! A partial replica's first sync (issue 14), deterministic over the in-memory relay with the fake
//! clock: a dispatcher asking for a history window gets a snapshot of what it holds — every
//! document outside jobs, open jobs however old, settled jobs active inside the window — page by
//! page, then the ordinary feed from the snapshot's head; a job that comes back to life after the
//! snapshot arrives through the feed, and a document it lacks is fetched whole by id.

use std::collections::BTreeSet;

use onsite_domain::order::{DispatchStatus, Order};
use onsite_domain::sla::SlaPolicy;
use onsite_domain::{Code, DocId, HOUR, Millis, seed};
use onsite_sync::memory::MemoryStore;
use onsite_sync::{device, snapshot};
use onsite_testkit::DAY;
use onsite_testkit::sim::{Network, SimDevice, order_id, technician_a};
use onsite_wire::{Role, SyncResponse};

const WINDOW: u32 = 90;
const OLD: Millis = DAY - 400 * 24 * HOUR;

/// Orders 0..4 of today (0 and 1 cancelled today: settled but inside the window), orders 10..14
/// of 400 days ago (10 and 11 cancelled then: outside the window; 12 and 13 still open).
fn centre() -> (Network<MemoryStore>, SimDevice) {
    let mut net = Network::in_memory();
    let mut disp = SimDevice::dispatcher_with_orders(4);
    let a = technician_a();
    for n in 10..14 {
        let mut o = Order::create(seed::order(n, OLD), &SlaPolicy::default(), OLD).expect("valid");
        o.assign(&format!("t-{n}"), &a, "", "disp", OLD + HOUR)
            .expect("qualified");
        disp.put(order_id(n), &o);
    }
    for (n, at) in [(0, DAY), (1, DAY), (10, OLD), (11, OLD)] {
        disp.edit_order(&order_id(n), |o| {
            o.status = DispatchStatus::Cancelled;
            o.status_changed_at_ms = at + 2 * HOUR;
        });
    }
    net.sync_until_quiet(&mut disp);
    (net, disp)
}

/// A fresh device of `user` reads its first sync with `window` until the feed is through;
/// returns the answers.
fn first_sync(
    net: &mut Network<MemoryStore>,
    dev: &mut SimDevice,
    window: Option<u32>,
) -> Vec<SyncResponse> {
    let mut answers = Vec::new();
    let mut position = None;
    loop {
        let mut req = dev.request();
        if dev.cursor == 0 {
            req.window_days = window;
            req.snapshot = position.clone();
        }
        // As the device does: the first request asks for the "n of N" count.
        req.count_remaining = answers.is_empty();
        let resp = net.serve(&dev.caller, &req);
        dev.apply(&resp);
        position = resp.snapshot.clone();
        let more = resp.more;
        answers.push(resp);
        if !more {
            return answers;
        }
        assert!(answers.len() < 50, "the first sync ends");
    }
}

fn held(dev: &SimDevice) -> BTreeSet<DocId> {
    dev.docs.keys().cloned().collect()
}

#[test]
fn a_windowed_first_sync_holds_open_and_recent_jobs_and_everything_outside_jobs() {
    let (mut net, _) = centre();
    net.limits.max_docs_per_response = 3;
    let mut fresh = SimDevice::new("disp", Role::Dispatcher);
    fresh.caller.device_id = "fresh".into();
    let answers = first_sync(&mut net, &mut fresh, Some(WINDOW));
    let got = held(&fresh);
    for n in [0, 1, 2, 3, 12, 13] {
        assert!(
            got.contains(&order_id(n)),
            "order {n} is open or active within the window: held"
        );
    }
    for n in [10, 11] {
        assert!(
            !got.contains(&order_id(n)),
            "order {n} was cancelled 400 days ago: history, not held"
        );
    }
    for d in [
        DocId::Templates,
        DocId::Profile("tech.a".into()),
        DocId::Profile("tech.b".into()),
    ] {
        assert!(got.contains(&d), "{d} is outside jobs: always held");
    }
    assert!(
        answers.len() >= 3,
        "three documents an answer: several pages"
    );
    let sent: usize = answers.iter().map(|a| a.docs.len()).sum();
    assert_eq!(sent, got.len(), "every document is sent once");
    let parts: Vec<usize> = answers
        .iter()
        .flat_map(|a| &a.docs)
        .map(|m| {
            let id = m.doc.to_string();
            snapshot::PARTS.iter().position(|p| p.holds(&id)).unwrap()
        })
        .collect();
    assert!(
        parts.is_sorted(),
        "what a dispatcher needs to work comes first (reference documents, profiles, ledgers),          then the registry, then the jobs: {parts:?}"
    );
    assert_eq!(
        answers[0].docs[0].doc,
        DocId::Templates,
        "the first page starts with the reference documents"
    );
    assert_eq!(
        answers[0].remaining,
        Some((got.len() - answers[0].docs.len()) as u64),
        "the first page counts what the snapshot still holds: the sync bar's N"
    );
    assert!(
        answers[..answers.len() - 1]
            .iter()
            .all(|a| a.cursor == 0 && a.snapshot.is_some()),
        "between pages the cursor stays 0 and the position goes back and forth"
    );
    let last = answers.last().unwrap();
    assert_eq!(last.snapshot, None, "the last page ends the snapshot");
    assert_eq!(
        last.cursor,
        net.relay.change_count() as u64,
        "and gives the feed's head"
    );
}

#[test]
fn without_a_window_or_for_a_technician_the_whole_feed_is_read() {
    let (mut net, _) = centre();
    let mut whole = SimDevice::new("disp", Role::Dispatcher);
    whole.caller.device_id = "whole".into();
    first_sync(&mut net, &mut whole, None);
    assert!(
        held(&whole).contains(&order_id(10)),
        "no window: the whole history"
    );
    let mut tech = SimDevice::new("tech.a", Role::Technician);
    let answers = first_sync(&mut net, &mut tech, Some(WINDOW));
    assert!(
        answers.iter().all(|a| a.snapshot.is_none()),
        "a technician's feed holds their own jobs only: never a snapshot"
    );
    assert!(
        held(&tech).contains(&order_id(10)),
        "the technician's own cancelled job arrives as before"
    );
}

#[test]
fn a_job_active_again_after_the_snapshot_arrives_by_the_feed_and_is_fetched_whole() {
    let (mut net, mut disp) = centre();
    let mut fresh = SimDevice::new("disp", Role::Dispatcher);
    fresh.caller.device_id = "fresh".into();
    first_sync(&mut net, &mut fresh, Some(WINDOW));
    // A complaint on the old job: its order changes today.
    disp.edit_order(&order_id(10), |o| {
        o.status_reason = "customer called".into()
    });
    net.sync_until_quiet(&mut disp);
    let resp = net.exchange(&mut fresh);
    let msg = resp
        .docs
        .iter()
        .find(|m| m.doc == order_id(10))
        .expect("the feed carries the change to the old job");
    let mut empty = automerge::AutoCommit::new();
    let mut state = device::PeerState::new();
    device::incoming(&order_id(10), &mut empty, &mut state, &msg.message).unwrap();
    assert!(
        !empty.get_missing_deps(&[]).is_empty(),
        "only the new change came: the device lacks the job's history"
    );
    // The device asks for it whole by id.
    let req = device::build_request(resp.cursor, vec![(order_id(10), device::request_missing())]);
    let whole = net.serve(&fresh.caller, &req);
    let mut doc = automerge::AutoCommit::new();
    let mut state = device::PeerState::new();
    let m = whole.docs.iter().find(|m| m.doc == order_id(10)).unwrap();
    device::incoming(&order_id(10), &mut doc, &mut state, &m.message).unwrap();
    let order: Order = onsite_domain::doc::read(&doc).expect("the whole order arrived");
    assert_eq!(order.status_reason, "customer called");
}

#[test]
fn a_changed_document_between_pages_is_not_lost_and_a_forged_position_is_refused() {
    let (mut net, mut disp) = centre();
    net.limits.max_docs_per_response = 2;
    let mut fresh = SimDevice::new("disp", Role::Dispatcher);
    fresh.caller.device_id = "fresh".into();
    let mut req = fresh.request();
    req.window_days = Some(WINDOW);
    let first = net.serve(&fresh.caller, &req);
    fresh.apply(&first);
    let position = first.snapshot.clone().expect("more pages follow");
    // Order 0 is listed after the first page's documents; order 13 too. Both change now.
    disp.edit_order(&order_id(13), |o| o.status_reason = "moved".into());
    net.sync_until_quiet(&mut disp);
    let mut pos = Some(position);
    while fresh.cursor == 0 {
        let mut req = fresh.request();
        req.window_days = Some(WINDOW);
        req.snapshot = pos.clone();
        let resp = net.serve(&fresh.caller, &req);
        fresh.apply(&resp);
        pos = resp.snapshot;
    }
    net.sync_until_quiet(&mut fresh);
    assert!(
        net.converged(&mut fresh, &order_id(13)),
        "the change made while the snapshot was read is on the device"
    );
    let mut bad = SimDevice::new("disp", Role::Dispatcher).request();
    bad.window_days = Some(WINDOW);
    bad.snapshot = Some("99999/4/order:o-00001".into());
    let refused = onsite_sync::relay::handle(&mut net.relay, &fresh.caller, &bad, &net.limits, DAY)
        .expect_err("a position beyond the feed was never given");
    assert!(
        matches!(refused, onsite_sync::relay::HandleError::Refused(ref e) if e.code() == Code::SyncBadSnapshot),
        "refused with sync.bad_snapshot, not {refused:?}"
    );
}
