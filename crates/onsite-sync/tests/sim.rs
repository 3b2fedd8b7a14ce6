//! Deterministic protocol tests: devices and the relay logic (over the in-memory store) talk
//! through the test kit's simulated network (`onsite_testkit::sim`) that drops, duplicates and
//! delays messages, driven by a seeded generator and a fake clock. No sockets, no threads, no
//! sleeps.

use std::collections::BTreeSet;

use automerge::AutoCommit;
use onsite_domain::order::{DispatchStatus, Order};
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, HOUR, doc, templates};
use onsite_sync::device::{self, PeerState};
use onsite_testkit::DAY;
use onsite_testkit::sim::{Network, Rng, SimDevice, order_id, technician_b};
use onsite_wire::{Code, Role, SyncRequest};

#[test]
fn first_sync_delivers_exactly_what_each_user_may_read() {
    let mut net = Network::in_memory();
    let mut disp = SimDevice::dispatcher_with_orders(6);
    net.sync_until_quiet(&mut disp);
    let mut a = SimDevice::new("tech.a", Role::Technician);
    net.sync_until_quiet(&mut a);
    let mut ids: Vec<String> = a.docs.keys().map(ToString::to_string).collect();
    ids.sort();
    assert_eq!(
        ids,
        vec![
            "order:o-00000",
            "order:o-00002",
            "order:o-00004",
            "profile:tech.a",
            "ref:templates"
        ],
        "tech.a sees its own orders, its profile and reference docs only"
    );
}

#[test]
fn offline_edits_on_both_sides_converge_in_one_round_trip_each() {
    let mut net = Network::in_memory();
    let mut disp = SimDevice::dispatcher_with_orders(4);
    net.sync_until_quiet(&mut disp);
    let mut a = SimDevice::new("tech.a", Role::Technician);
    net.sync_until_quiet(&mut a);

    // Partition: both sides edit without talking to the relay.
    let visit = a.start_visit(&order_id(0));
    a.edit_visit(&visit, |v| v.diagnosis = "capacitor failed".into());
    disp.edit_order(&order_id(0), |o| {
        o.problem.push_str(" (customer called again)")
    });

    assert_eq!(
        net.sync_until_quiet(&mut a),
        1,
        "upload takes one round trip"
    );
    assert_eq!(net.sync_until_quiet(&mut disp), 1);
    assert_eq!(net.sync_until_quiet(&mut a), 1);

    let (d, _) = disp
        .docs
        .get(&visit)
        .expect("dispatcher received the visit");
    let v: Visit = doc::read(d).unwrap();
    assert_eq!(v.diagnosis, "capacitor failed");
    let (d, _) = a.docs.get(&order_id(0)).unwrap();
    let o: Order = doc::read(d).unwrap();
    assert!(
        o.problem.ends_with("(customer called again)"),
        "technician got the edit"
    );
    for id in [order_id(0), visit.clone()] {
        assert!(net.converged(&mut a, &id), "{id} converged on tech.a");
        assert!(
            net.converged(&mut disp, &id),
            "{id} converged on dispatcher"
        );
    }
}

#[test]
fn dropped_duplicated_and_reordered_messages_lose_and_duplicate_nothing() {
    for seed in 1..=8u64 {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed);
        let mut net = Network::in_memory();
        let mut disp = SimDevice::dispatcher_with_orders(6);
        net.sync_until_quiet(&mut disp);
        let mut a = SimDevice::new("tech.a", Role::Technician);
        net.sync_until_quiet(&mut a);
        let visit = a.start_visit(&order_id(2));
        let mut stale: Vec<(bool, SyncRequest)> = Vec::new();

        for step in 0..40 {
            // Edits on both sides.
            if rng.chance(50) {
                a.edit_visit(&visit, |v| v.work_performed.push_str(&format!("s{step};")));
            }
            if rng.chance(40) {
                disp.edit_order(&order_id(2), |o| o.problem.push_str(&format!("d{step};")));
            }
            // One exchange per device with faults.
            for is_a in [true, false] {
                let dev = if is_a { &mut a } else { &mut disp };
                let req = dev.request();
                if rng.chance(15) {
                    stale.push((is_a, req)); // delayed: delivered later, out of order
                    continue;
                }
                if rng.chance(15) {
                    continue; // request dropped
                }
                let resp = net.serve(&dev.caller, &req);
                if rng.chance(10) {
                    let again = net.serve(&dev.caller, &req); // duplicated request
                    assert_eq!(again.stored_changes, 0, "a duplicate stores nothing");
                }
                if rng.chance(20) {
                    continue; // response dropped
                }
                dev.apply(&resp);
            }
            // Deliver some delayed requests late; their responses are lost.
            if rng.chance(30) && !stale.is_empty() {
                let (is_a, req) = stale.remove((rng.next_u64() % stale.len() as u64) as usize);
                let dev = if is_a { &a } else { &disp };
                net.serve(&dev.caller, &req);
            }
        }
        for (is_a, req) in stale.drain(..) {
            let dev = if is_a { &a } else { &disp };
            net.serve(&dev.caller, &req);
        }
        // Heal: perfect network until quiet, twice round so each sees the other's last edits.
        for _ in 0..2 {
            net.sync_until_quiet(&mut a);
            net.sync_until_quiet(&mut disp);
        }
        for id in [order_id(2), visit.clone()] {
            assert!(net.converged(&mut a, &id), "seed {seed}: {id} on tech.a");
            assert!(
                net.converged(&mut disp, &id),
                "seed {seed}: {id} on dispatcher"
            );
        }
        // Every stored change is distinct and every relay document's changes are all stored.
        let mut total = 0;
        for id in net.relay.doc_ids().cloned().collect::<Vec<_>>() {
            let mut d = AutoCommit::load(net.relay.doc_bytes(&id).unwrap()).unwrap();
            total += d.get_changes(&[]).len();
        }
        assert_eq!(
            net.relay.change_count(),
            total,
            "seed {seed}: change log holds each change exactly once"
        );
    }
}

#[test]
fn no_op_sync_sends_nothing_and_catch_up_is_proportional_to_changes() {
    let mut net = Network::in_memory();
    let mut disp = SimDevice::dispatcher_with_orders(200);
    net.sync_until_quiet(&mut disp);
    let mut other = SimDevice::new("disp2", Role::Dispatcher);
    net.sync_until_quiet(&mut other);

    let noop = other.request();
    assert!(noop.docs.is_empty(), "nothing changed locally: no messages");
    let resp = net.serve(&other.caller, &noop);
    assert!(
        resp.docs.is_empty() && !resp.more,
        "nothing changed: empty answer"
    );

    for n in [3, 77, 150] {
        disp.edit_order(&order_id(n), |o| o.problem.push_str(" (again)"));
    }
    let up = disp.request();
    assert_eq!(up.docs.len(), 3, "only the 3 changed documents are sent");
    disp.apply(&net.serve(&disp.caller, &up));
    let resp = net.exchange(&mut other);
    assert_eq!(
        resp.docs.len(),
        3,
        "catch-up carries the 3 changed documents only"
    );
    other.apply(&resp);
    for n in [3, 77, 150] {
        assert!(net.converged(&mut other, &order_id(n)));
    }
}

#[test]
fn paging_delivers_everything_across_pages() {
    let mut net = Network::in_memory();
    net.limits.max_docs_per_response = 7;
    let mut disp = SimDevice::dispatcher_with_orders(30);
    net.sync_until_quiet(&mut disp);
    let mut other = SimDevice::new("disp2", Role::Dispatcher);
    let rounds = net.sync_until_quiet(&mut other);
    assert_eq!(other.docs.len(), 33, "30 orders, 2 profiles, templates");
    assert!(
        rounds >= 5,
        "33 documents at 7 per page need several pages ({rounds})"
    );
}

#[test]
fn a_catch_up_longer_than_one_read_of_the_feed_pages_through_it_and_revokes_what_was_taken_away() {
    let mut net = Network::in_memory();
    net.limits.max_docs_per_response = 150;
    let mut disp = SimDevice::dispatcher_with_orders(900);
    net.sync_until_quiet(&mut disp);
    let mut a = SimDevice::new("tech.a", Role::Technician);
    net.sync_until_quiet(&mut a);
    assert_eq!(
        held_orders(&a),
        450,
        "tech.a holds its 450 orders (the even ones)"
    );

    // Each of them changed twice: 900 changes in tech.a's feed, then 100 reassigned: 1,000
    // changes to catch up on (the relay reads 1,024 at a time), on documents tech.a already
    // holds — no grant in the range brings them.
    for _ in 0..2 {
        for n in (0..900).step_by(2) {
            disp.edit_order(&order_id(n), |o| o.problem.push_str(" (again)"));
        }
        net.sync_until_quiet(&mut disp);
    }
    let b = technician_b();
    for n in (0..200).step_by(2) {
        disp.edit_order(&order_id(n), |o| {
            o.assign("t-re", &b, "tech.a is away", "disp", DAY + 2 * HOUR)
                .unwrap()
        });
    }
    net.sync_until_quiet(&mut disp);
    // 24 more changes in the feed: with those the catch-up spans more than one read.
    for n in (200..248).step_by(2) {
        disp.edit_order(&order_id(n), |o| o.problem.push_str(" (last)"));
    }
    net.sync_until_quiet(&mut disp);

    let mut pages = 0;
    let mut revoked = BTreeSet::new();
    loop {
        let resp = net.exchange(&mut a);
        pages += 1;
        assert!(
            resp.docs.len() <= 150,
            "page {pages} sends {} documents, over the page size",
            resp.docs.len()
        );
        revoked.extend(resp.revocations.iter().cloned());
        a.apply(&resp);
        if !resp.more {
            break;
        }
        assert!(pages < 10, "350 documents at 150 a page: the feed must end");
    }
    assert!(
        pages >= 3,
        "350 documents at 150 a page take 3 pages, not {pages}"
    );
    for n in (200..900).step_by(2) {
        assert!(
            net.converged(&mut a, &order_id(n)),
            "{} is still tech.a's: every change of it arrives",
            order_id(n)
        );
    }
    let taken: BTreeSet<DocId> = (0..200).step_by(2).map(order_id).collect();
    assert_eq!(
        revoked, taken,
        "the 100 orders reassigned away are revoked, each once"
    );
}

fn held_orders(dev: &SimDevice) -> usize {
    dev.docs
        .keys()
        .filter(|d| matches!(d, DocId::Order(_)))
        .count()
}

#[test]
fn reassignment_revokes_the_order_but_keeps_the_visit_with_the_dispatcher() {
    let mut net = Network::in_memory();
    let mut disp = SimDevice::dispatcher_with_orders(2);
    net.sync_until_quiet(&mut disp);
    let mut a = SimDevice::new("tech.a", Role::Technician);
    let mut b = SimDevice::new("tech.b", Role::Technician);
    net.sync_until_quiet(&mut a);
    net.sync_until_quiet(&mut b);

    // tech.a works offline on o-0 while dispatch reassigns it to tech.b.
    let visit = a.start_visit(&order_id(0));
    a.edit_visit(&visit, |v| v.diagnosis = "board burnt".into());
    let profile_b = technician_b();
    disp.edit_order(&order_id(0), |o| {
        o.assign("t-re", &profile_b, "tech.a is sick", "disp", DAY + 2 * HOUR)
            .unwrap()
    });
    net.sync_until_quiet(&mut disp);

    let resp_b = net.exchange(&mut b);
    assert_eq!(
        resp_b.grants,
        vec![order_id(0)],
        "tech.b is granted the order"
    );
    b.apply(&resp_b);
    assert!(net.converged(&mut b, &order_id(0)));

    let resp_a = net.exchange(&mut a);
    assert_eq!(
        resp_a.revocations,
        vec![order_id(0)],
        "tech.a loses the order"
    );
    assert!(
        resp_a.rejected.is_empty(),
        "work done before the transfer still uploads"
    );
    assert!(!resp_a.docs.iter().any(|m| m.doc == order_id(0)));
    a.apply(&resp_a);

    net.sync_until_quiet(&mut disp);
    let (d, _) = disp
        .docs
        .get(&visit)
        .expect("dispatcher has tech.a's visit");
    let v: Visit = doc::read(d).unwrap();
    assert_eq!(v.diagnosis, "board burnt");

    // tech.a can no longer see later edits of the order.
    disp.edit_order(&order_id(0), |o| o.problem.push_str(" (b on the way)"));
    net.sync_until_quiet(&mut disp);
    let resp = net.exchange(&mut a);
    assert!(
        resp.docs.iter().all(|m| m.doc != order_id(0)),
        "nothing of o-0 leaks to tech.a"
    );
}

#[test]
fn forbidden_writes_are_refused_whole_and_unreadable_docs_look_missing() {
    let mut net = Network::in_memory();
    let mut disp = SimDevice::dispatcher_with_orders(2);
    net.sync_until_quiet(&mut disp);
    let mut a = SimDevice::new("tech.a", Role::Technician);
    net.sync_until_quiet(&mut a);
    let before = net.relay.change_count();

    // Technician edits an order assigned to them: read-only.
    a.edit_order(&order_id(0), |o| o.status = DispatchStatus::Cancelled);
    let resp = net.exchange(&mut a);
    assert_eq!(resp.rejected.len(), 1);
    assert_eq!(resp.rejected[0].code, Code::AccessReadOnly);
    assert_eq!(net.relay.change_count(), before, "nothing stored");

    // Asking for tech.b's order and for a missing order gives the same answer.
    let ask = |id: DocId| SyncRequest {
        snapshot: None,
        window_days: None,
        cursor: a.cursor,
        docs: vec![onsite_wire::DocMessage {
            doc: id,
            message: device::request_missing(),
        }],
        count_remaining: false,
    };
    let theirs = net.serve(&a.caller, &ask(order_id(1)));
    let missing = net.serve(&a.caller, &ask(order_id(999)));
    assert_eq!(theirs.rejected[0].code, Code::DocumentNotFound);
    assert_eq!(missing.rejected[0].code, Code::DocumentNotFound);
    assert_eq!(
        theirs.rejected[0].message.replace("o-00001", "X"),
        missing.rejected[0].message.replace("o-00999", "X"),
        "unreadable and missing are indistinguishable"
    );
    assert!(theirs.docs.is_empty() && missing.docs.is_empty());

    // A visit in tech.b's name is refused and not stored.
    let (od, _) = a.docs.get_mut(&order_id(0)).unwrap();
    let o: Order = doc::read(od).unwrap();
    let fake = Visit::start(&o, "tech.b", &templates::builtin_library()).unwrap();
    let mut fd = doc::create(&fake).unwrap();
    let fake_id = DocId::visit("o-00000", "tech.b");
    let msg = device::outgoing(&mut fd, &PeerState::new()).unwrap();
    let resp = net.serve(
        &a.caller,
        &device::build_request(a.cursor, vec![(fake_id.clone(), msg)]),
    );
    assert_eq!(resp.rejected[0].code, Code::DocumentNotFound);
    assert!(net.relay.doc_bytes(&fake_id).is_none(), "nothing stored");
    assert_eq!(net.relay.change_count(), before);
}
