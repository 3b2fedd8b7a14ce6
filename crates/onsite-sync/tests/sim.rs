//! Deterministic protocol tests: devices and the relay logic (over the in-memory store) talk
//! through a simulated network that drops, duplicates and delays messages, driven by a seeded
//! generator and a fake clock. No sockets, no threads, no sleeps.

use std::collections::BTreeMap;

use automerge::AutoCommit;
use onsite_domain::DocId;
use onsite_domain::order::{DispatchStatus, Order};
use onsite_domain::sla::SlaPolicy;
use onsite_domain::visit::Visit;
use onsite_domain::{HOUR, Millis, doc, seed, templates};
use onsite_sync::access::Principal;
use onsite_sync::device::{self, PeerState};
use onsite_sync::memory::MemoryStore;
use onsite_sync::relay::{Caller, Limits, handle};
use onsite_wire::{Code, Role, SyncRequest, SyncResponse};

const DAY: Millis = 1_790_000_000_000;

/// Small deterministic generator (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A device: its documents with per-document peer state, and its feed cursor.
struct Device {
    caller: Caller,
    cursor: u64,
    docs: BTreeMap<DocId, (AutoCommit, PeerState)>,
    revoked: Vec<DocId>,
}

impl Device {
    fn new(user: &str, role: Role) -> Self {
        Device {
            caller: Caller {
                principal: Principal {
                    user_id: user.into(),
                    role,
                },
                device_id: format!("dev-{user}"),
            },
            cursor: 0,
            docs: BTreeMap::new(),
            revoked: Vec::new(),
        }
    }

    fn request(&mut self) -> SyncRequest {
        let mut out = Vec::new();
        for (id, (d, st)) in self.docs.iter_mut() {
            if let Some(m) = device::outgoing(d, st) {
                out.push((id.clone(), m));
            }
        }
        device::build_request(self.cursor, out)
    }

    fn apply(&mut self, resp: &SyncResponse) {
        for m in &resp.docs {
            let (d, st) = self
                .docs
                .entry(m.doc.clone())
                .or_insert_with(|| (AutoCommit::new(), PeerState::new()));
            device::incoming(&m.doc, d, st, &m.message).expect("relay messages apply");
        }
        self.revoked.extend(resp.revocations.iter().cloned());
        self.cursor = resp.cursor;
    }

    fn unsynced(&mut self) -> usize {
        self.docs
            .values_mut()
            .filter(|(d, st)| device::is_unsynced(&mut d.clone(), st))
            .count()
    }

    fn edit_order(&mut self, id: &DocId, f: impl FnOnce(&mut Order)) {
        let (d, _) = self.docs.get_mut(id).expect("device holds the order");
        let mut o: Order = doc::read(d).unwrap();
        f(&mut o);
        doc::write(d, &o).unwrap();
        d.commit();
    }

    fn edit_visit(&mut self, id: &DocId, f: impl FnOnce(&mut Visit)) {
        let (d, _) = self.docs.get_mut(id).expect("device holds the visit");
        let mut v: Visit = doc::read(d).unwrap();
        f(&mut v);
        doc::write(d, &v).unwrap();
        d.commit();
    }
}

/// The relay logic over the in-memory store plus a fake clock.
struct Relay {
    store: MemoryStore,
    now: Millis,
    limits: Limits,
}

impl Relay {
    fn new() -> Self {
        Relay {
            store: MemoryStore::new(),
            now: DAY,
            limits: Limits::default(),
        }
    }
    fn serve(&mut self, caller: &Caller, req: &SyncRequest) -> SyncResponse {
        self.now += 1_000;
        handle(&mut self.store, caller, req, &self.limits, self.now)
            .expect("valid requests are handled")
            .response
    }
}

/// One request and its response, not applied.
fn exchange(dev: &mut Device, relay: &mut Relay) -> SyncResponse {
    let req = dev.request();
    relay.serve(&dev.caller, &req)
}

/// Sync over a perfect network until nothing is left; returns round trips.
fn sync_until_quiet(dev: &mut Device, relay: &mut Relay) -> usize {
    for round in 1..=10 {
        let req = dev.request();
        let resp = relay.serve(&dev.caller, &req);
        dev.apply(&resp);
        if !resp.more && dev.unsynced() == 0 {
            return round;
        }
    }
    panic!("sync did not become quiet in 10 round trips");
}

/// A dispatcher device holding reference docs, two profiles and `n` orders assigned
/// alternately to tech.a and tech.b.
fn dispatcher_with_orders(n: u32) -> Device {
    let mut d = Device::new("disp", Role::Dispatcher);
    let a = seed::technician("tech.a", "Zhang San", "13900000001", "CERT-A", DAY);
    let b = seed::technician("tech.b", "Li Si", "13900000002", "CERT-B", DAY);
    let put = |d: &mut Device, id: DocId, doc: AutoCommit| {
        d.docs.insert(id, (doc, PeerState::new()));
    };
    put(
        &mut d,
        DocId::Templates,
        doc::create(&templates::builtin_library()).unwrap(),
    );
    put(
        &mut d,
        DocId::Profile("tech.a".into()),
        doc::create(&a).unwrap(),
    );
    put(
        &mut d,
        DocId::Profile("tech.b".into()),
        doc::create(&b).unwrap(),
    );
    for i in 0..n {
        let mut o = Order::create(seed::order(i, DAY), &SlaPolicy::default(), DAY).unwrap();
        let to = if i % 2 == 0 { &a } else { &b };
        o.assign(&format!("t-{i}"), to, "", "disp", DAY + HOUR)
            .unwrap();
        put(
            &mut d,
            DocId::Order(o.order_id.clone()),
            doc::create(&o).unwrap(),
        );
    }
    d
}

fn order_id(n: u32) -> DocId {
    DocId::Order(format!("o-{n:05}"))
}

fn start_visit(tech: &mut Device, order: &DocId) -> DocId {
    let (d, _) = tech.docs.get_mut(order).unwrap();
    let o: Order = doc::read(d).unwrap();
    let v = Visit::start(
        &o,
        &tech.caller.principal.user_id,
        &templates::builtin_library(),
    )
    .unwrap();
    let id = DocId::visit(&o.order_id, &tech.caller.principal.user_id);
    tech.docs
        .insert(id.clone(), (doc::create(&v).unwrap(), PeerState::new()));
    id
}

fn heads_equal(dev: &mut Device, relay: &Relay, id: &DocId) -> bool {
    let (d, _) = dev.docs.get_mut(id).unwrap();
    let relay_doc = AutoCommit::load(relay.store.doc_bytes(id).unwrap()).unwrap();
    d.get_heads() == relay_doc.clone().get_heads()
}

#[test]
fn first_sync_delivers_exactly_what_each_user_may_read() {
    let mut relay = Relay::new();
    let mut disp = dispatcher_with_orders(6);
    sync_until_quiet(&mut disp, &mut relay);
    let mut a = Device::new("tech.a", Role::Technician);
    sync_until_quiet(&mut a, &mut relay);
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
    let mut relay = Relay::new();
    let mut disp = dispatcher_with_orders(4);
    sync_until_quiet(&mut disp, &mut relay);
    let mut a = Device::new("tech.a", Role::Technician);
    sync_until_quiet(&mut a, &mut relay);

    // Partition: both sides edit without talking to the relay.
    let visit = start_visit(&mut a, &order_id(0));
    a.edit_visit(&visit, |v| v.diagnosis = "capacitor failed".into());
    disp.edit_order(&order_id(0), |o| {
        o.problem.push_str(" (customer called again)")
    });

    assert_eq!(
        sync_until_quiet(&mut a, &mut relay),
        1,
        "upload takes one round trip"
    );
    assert_eq!(sync_until_quiet(&mut disp, &mut relay), 1);
    assert_eq!(sync_until_quiet(&mut a, &mut relay), 1);

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
        assert!(heads_equal(&mut a, &relay, &id), "{id} converged on tech.a");
        assert!(
            heads_equal(&mut disp, &relay, &id),
            "{id} converged on dispatcher"
        );
    }
}

#[test]
fn dropped_duplicated_and_reordered_messages_lose_and_duplicate_nothing() {
    for seed in 1..=8u64 {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed);
        let mut relay = Relay::new();
        let mut disp = dispatcher_with_orders(6);
        sync_until_quiet(&mut disp, &mut relay);
        let mut a = Device::new("tech.a", Role::Technician);
        sync_until_quiet(&mut a, &mut relay);
        let visit = start_visit(&mut a, &order_id(2));
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
                let resp = relay.serve(&dev.caller, &req);
                if rng.chance(10) {
                    let again = relay.serve(&dev.caller, &req); // duplicated request
                    assert_eq!(again.stored_changes, 0, "a duplicate stores nothing");
                }
                if rng.chance(20) {
                    continue; // response dropped
                }
                dev.apply(&resp);
            }
            // Deliver some delayed requests late; their responses are lost.
            if rng.chance(30) && !stale.is_empty() {
                let (is_a, req) = stale.remove((rng.next() % stale.len() as u64) as usize);
                let dev = if is_a { &a } else { &disp };
                relay.serve(&dev.caller, &req);
            }
        }
        for (is_a, req) in stale.drain(..) {
            let dev = if is_a { &a } else { &disp };
            relay.serve(&dev.caller, &req);
        }
        // Heal: perfect network until quiet, twice round so each sees the other's last edits.
        for _ in 0..2 {
            sync_until_quiet(&mut a, &mut relay);
            sync_until_quiet(&mut disp, &mut relay);
        }
        for id in [order_id(2), visit.clone()] {
            assert!(
                heads_equal(&mut a, &relay, &id),
                "seed {seed}: {id} on tech.a"
            );
            assert!(
                heads_equal(&mut disp, &relay, &id),
                "seed {seed}: {id} on dispatcher"
            );
        }
        // Every stored change is distinct and every relay document's changes are all stored.
        let mut total = 0;
        for id in relay.store.doc_ids().cloned().collect::<Vec<_>>() {
            let mut d = AutoCommit::load(relay.store.doc_bytes(&id).unwrap()).unwrap();
            total += d.get_changes(&[]).len();
        }
        assert_eq!(
            relay.store.change_count(),
            total,
            "seed {seed}: change log holds each change exactly once"
        );
    }
}

#[test]
fn no_op_sync_sends_nothing_and_catch_up_is_proportional_to_changes() {
    let mut relay = Relay::new();
    let mut disp = dispatcher_with_orders(200);
    sync_until_quiet(&mut disp, &mut relay);
    let mut other = Device::new("disp2", Role::Dispatcher);
    sync_until_quiet(&mut other, &mut relay);

    let noop = other.request();
    assert!(noop.docs.is_empty(), "nothing changed locally: no messages");
    let resp = relay.serve(&other.caller, &noop);
    assert!(
        resp.docs.is_empty() && !resp.more,
        "nothing changed: empty answer"
    );

    for n in [3, 77, 150] {
        disp.edit_order(&order_id(n), |o| o.problem.push_str(" (again)"));
    }
    let up = disp.request();
    assert_eq!(up.docs.len(), 3, "only the 3 changed documents are sent");
    disp.apply(&relay.serve(&disp.caller, &up));
    let resp = exchange(&mut other, &mut relay);
    assert_eq!(
        resp.docs.len(),
        3,
        "catch-up carries the 3 changed documents only"
    );
    other.apply(&resp);
    for n in [3, 77, 150] {
        assert!(heads_equal(&mut other, &relay, &order_id(n)));
    }
}

#[test]
fn paging_delivers_everything_across_pages() {
    let mut relay = Relay::new();
    relay.limits.max_docs_per_response = 7;
    let mut disp = dispatcher_with_orders(30);
    sync_until_quiet(&mut disp, &mut relay);
    let mut other = Device::new("disp2", Role::Dispatcher);
    let rounds = sync_until_quiet(&mut other, &mut relay);
    assert_eq!(other.docs.len(), 33, "30 orders, 2 profiles, templates");
    assert!(
        rounds >= 5,
        "33 documents at 7 per page need several pages ({rounds})"
    );
}

#[test]
fn reassignment_revokes_the_order_but_keeps_the_visit_with_the_dispatcher() {
    let mut relay = Relay::new();
    let mut disp = dispatcher_with_orders(2);
    sync_until_quiet(&mut disp, &mut relay);
    let mut a = Device::new("tech.a", Role::Technician);
    let mut b = Device::new("tech.b", Role::Technician);
    sync_until_quiet(&mut a, &mut relay);
    sync_until_quiet(&mut b, &mut relay);

    // tech.a works offline on o-0 while dispatch reassigns it to tech.b.
    let visit = start_visit(&mut a, &order_id(0));
    a.edit_visit(&visit, |v| v.diagnosis = "board burnt".into());
    let profile_b = seed::technician("tech.b", "Li Si", "13900000002", "CERT-B", DAY);
    disp.edit_order(&order_id(0), |o| {
        o.assign("t-re", &profile_b, "tech.a is sick", "disp", DAY + 2 * HOUR)
            .unwrap()
    });
    sync_until_quiet(&mut disp, &mut relay);

    let resp_b = exchange(&mut b, &mut relay);
    assert_eq!(
        resp_b.grants,
        vec![order_id(0)],
        "tech.b is granted the order"
    );
    b.apply(&resp_b);
    assert!(heads_equal(&mut b, &relay, &order_id(0)));

    let resp_a = exchange(&mut a, &mut relay);
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

    sync_until_quiet(&mut disp, &mut relay);
    let (d, _) = disp
        .docs
        .get(&visit)
        .expect("dispatcher has tech.a's visit");
    let v: Visit = doc::read(d).unwrap();
    assert_eq!(v.diagnosis, "board burnt");

    // tech.a can no longer see later edits of the order.
    disp.edit_order(&order_id(0), |o| o.problem.push_str(" (b on the way)"));
    sync_until_quiet(&mut disp, &mut relay);
    let resp = exchange(&mut a, &mut relay);
    assert!(
        resp.docs.iter().all(|m| m.doc != order_id(0)),
        "nothing of o-0 leaks to tech.a"
    );
}

#[test]
fn forbidden_writes_are_refused_whole_and_unreadable_docs_look_missing() {
    let mut relay = Relay::new();
    let mut disp = dispatcher_with_orders(2);
    sync_until_quiet(&mut disp, &mut relay);
    let mut a = Device::new("tech.a", Role::Technician);
    sync_until_quiet(&mut a, &mut relay);
    let before = relay.store.change_count();

    // Technician edits an order assigned to them: read-only.
    a.edit_order(&order_id(0), |o| o.status = DispatchStatus::Cancelled);
    let resp = exchange(&mut a, &mut relay);
    assert_eq!(resp.rejected.len(), 1);
    assert_eq!(resp.rejected[0].code, Code::AccessReadOnly);
    assert_eq!(relay.store.change_count(), before, "nothing stored");

    // Asking for tech.b's order and for a missing order gives the same answer.
    let ask = |id: DocId| SyncRequest {
        cursor: a.cursor,
        docs: vec![onsite_wire::DocMessage {
            doc: id,
            message: device::request_missing(),
        }],
    };
    let theirs = relay.serve(&a.caller, &ask(order_id(1)));
    let missing = relay.serve(&a.caller, &ask(order_id(999)));
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
    let resp = relay.serve(
        &a.caller,
        &device::build_request(a.cursor, vec![(fake_id.clone(), msg)]),
    );
    assert_eq!(resp.rejected[0].code, Code::DocumentNotFound);
    assert!(relay.store.doc_bytes(&fake_id).is_none(), "nothing stored");
    assert_eq!(relay.store.change_count(), before);
}
