//! The storage's reads that the load work changed (issue 13 §2): an order's visits found by a
//! key range of the primary key (not a `LIKE` over the whole table), and token look-ups on the
//! pooled read-only connections, which see every commit at once.

use onsite_domain::order::Order;
use onsite_domain::sla::SlaPolicy;
use onsite_domain::{DocId, HOUR, seed};
use onsite_relay::storage::TokenRecord;
use onsite_testkit::DAY;
use onsite_testkit::sim::{Network, SimDevice, technician_a};
use onsite_wire::Role;

/// An order `id` numbered `no`, assigned to `tech.a`.
fn order(id: &str, no: &str) -> Order {
    let mut new = seed::order(0, DAY);
    new.order_id = id.into();
    new.order_no = no.into();
    let mut o = Order::create(new, &SlaPolicy::default(), DAY).expect("a valid order");
    o.assign(&format!("t-{id}"), &technician_a(), "", "disp", DAY + HOUR)
        .expect("tech.a qualifies");
    o
}

#[test]
fn an_orders_visits_are_exactly_those_under_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let storage = onsite_testkit::backend::open(dir.path());
    let mut net = Network::new(storage);
    let mut disp = SimDevice::new("disp", Role::Dispatcher);
    disp.put(DocId::Profile("tech.a".into()), &technician_a());
    // "o_1" would match "o-1" in a LIKE pattern unless escaped; "o-10" starts with "o-1".
    for (id, no) in [("o-1", "WO-1"), ("o-10", "WO-10"), ("o_1", "WO-U1")] {
        disp.put(DocId::Order(id.into()), &order(id, no));
    }
    net.sync_until_quiet(&mut disp);
    let mut tech = SimDevice::new("tech.a", Role::Technician);
    net.sync_until_quiet(&mut tech);
    for id in ["o-1", "o-10", "o_1"] {
        tech.start_visit(&DocId::Order(id.into()));
    }
    net.sync_until_quiet(&mut tech);
    assert_eq!(tech.unsynced(), 0, "the three visits are stored");

    for (no, id) in [("WO-1", "o-1"), ("WO-10", "o-10"), ("WO-U1", "o_1")] {
        let record = net
            .relay
            .order_record(no)
            .unwrap()
            .expect("one order has the number");
        let visits: Vec<DocId> = record.visits.into_iter().map(|v| v.doc).collect();
        assert_eq!(
            visits,
            vec![DocId::visit(id, "tech.a")],
            "order {id}'s record holds its own visit and no visit of an order whose id merely starts alike"
        );
    }
}

#[test]
fn a_revoked_token_is_seen_at_once_by_the_pooled_readers() {
    let dir = tempfile::tempdir().unwrap();
    let storage = onsite_testkit::backend::open(dir.path());
    onsite_relay::accounts::add_user(
        storage.as_ref(),
        "tech.a",
        "A",
        Role::Technician,
        onsite_testkit::PASSWORD,
        DAY,
    )
    .unwrap();
    for round in 0..20 {
        let sha = format!("{round:064}");
        let record = TokenRecord {
            token_sha256: sha.clone(),
            user_id: "tech.a".into(),
            device_id: "dev".into(),
            created_at_ms: DAY,
            expires_at_ms: DAY + HOUR,
            revoked_at_ms: None,
        };
        storage.add_token(&record).unwrap();
        assert_eq!(
            storage.token(&sha).unwrap(),
            Some(record),
            "a token is readable as soon as it is added (round {round})"
        );
        assert!(storage.revoke_token(&sha, DAY + 1).unwrap());
        assert_eq!(
            storage.token(&sha).unwrap().and_then(|t| t.revoked_at_ms),
            Some(DAY + 1),
            "a revocation is seen by the next look-up, never a stale read (round {round})"
        );
    }
}

#[test]
fn a_pull_answered_on_a_pooled_reader_sees_every_commit_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = Network::new(onsite_testkit::backend::open(dir.path()));
    let mut disp = SimDevice::new("disp", Role::Dispatcher);
    disp.put(DocId::Profile("tech.a".into()), &technician_a());
    net.sync_until_quiet(&mut disp);
    let mut tech = SimDevice::new("tech.a", Role::Technician);
    net.sync_until_quiet(&mut tech);
    // Each round commits one order (the writer) and then pulls it (a reader, in a read
    // transaction): a reader kept inside its transaction would answer from the state before.
    for round in 0..20 {
        let id = format!("o-{round}");
        disp.put(
            DocId::Order(id.clone()),
            &order(&id, &format!("WO-{round}")),
        );
        net.sync_until_quiet(&mut disp);
        let resp = net.exchange(&mut tech);
        tech.apply(&resp);
        assert!(
            resp.docs.iter().any(|m| m.doc == DocId::Order(id.clone())),
            "round {round}: the pull right after the commit sends the new order"
        );
        let held: Order = tech.read(&DocId::Order(id.clone()));
        assert_eq!(held.order_id, id, "round {round}: the order arrived whole");
    }
}

// The same behaviour on PostgreSQL.
onsite_testkit::on_postgres!(
    an_orders_visits_are_exactly_those_under_its_id,
    a_revoked_token_is_seen_at_once_by_the_pooled_readers,
    a_pull_answered_on_a_pooled_reader_sees_every_commit_before_it,
);
