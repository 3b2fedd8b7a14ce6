//! The relay's own rules on incoming orders, over the sans-IO relay and the in-memory store:
//! forged assignments (ISO 9001 §7.5.2 b) and duplicate order numbers are refused per document,
//! nothing of them is stored, and the rest of the request proceeds.

use onsite_domain::order::{Order, Transfer};
use onsite_domain::reference::{ServiceType, TechnicianProfile};
use onsite_domain::sla::SlaPolicy;
use onsite_domain::{DocId, HOUR, doc, seed};
use onsite_sync::memory::MemoryStore;
use onsite_testkit::DAY;
use onsite_testkit::sim::{Network, SimDevice, order_id, technician_b};
use onsite_wire::{Code, Role, SyncResponse};

/// What the relay stores of order `id`.
fn stored_order(net: &Network<MemoryStore>, id: &DocId) -> Order {
    let bytes = net.relay.doc_bytes(id).expect("the relay holds the order");
    doc::read(&doc::load(bytes).expect("it loads")).expect("it is an order")
}

/// Assign `order` to `to` by writing the document directly, as a modified client would: no
/// qualification check (`Order::assign` is bypassed).
fn forge_assignment(dev: &mut SimDevice, order: &DocId, to: &str) {
    dev.edit_order(order, |o| {
        o.transfers.push(Transfer {
            id: format!("forged-{to}"),
            from: o.assignee.clone(),
            to: to.to_owned(),
            reason: "forged".into(),
            by: "disp".into(),
            at_ms: DAY + HOUR,
        });
        o.assignee = Some(to.to_owned());
    });
}

fn rejection(resp: &SyncResponse, id: &DocId) -> Option<(Code, String)> {
    resp.rejected
        .iter()
        .find(|r| &r.doc == id)
        .map(|r| (r.code, r.message.clone()))
}

#[test]
fn forged_assignments_are_refused_whole_and_the_rest_of_the_request_proceeds() {
    let mut net = Network::in_memory();
    let mut disp = SimDevice::dispatcher_with_orders(3);
    net.sync_until_quiet(&mut disp);

    // tech.c holds a valid certificate that does not cover o-0's service type.
    let service = disp.read::<Order>(&order_id(0)).service_type;
    let mut c = seed::technician("tech.c", "Wang Wu", "13900000003", "CERT-C", DAY);
    c.qualifications = ServiceType::ALL
        .into_iter()
        .filter(|t| *t != service)
        .collect();
    disp.put(DocId::Profile("tech.c".into()), &c);
    forge_assignment(&mut disp, &order_id(0), "tech.c");
    forge_assignment(&mut disp, &order_id(1), "ghost");
    disp.edit_order(&order_id(2), |o| o.problem.push_str(" (call first)"));

    let resp = net.exchange(&mut disp);
    let (code, message) = rejection(&resp, &order_id(0)).expect("o-0's forged assignment");
    assert_eq!(code, Code::AssignmentNotQualified, "stable code: {message}");
    assert!(
        message.contains("tech.c") && message.contains("not qualified for"),
        "the message names the technician and the reason: {message}"
    );
    let (code, message) = rejection(&resp, &order_id(1)).expect("o-1's forged assignment");
    assert_eq!(code, Code::AssignmentNotQualified, "stable code: {message}");
    assert!(
        message.contains("no technician profile"),
        "an unknown technician has no profile: {message}"
    );
    assert_eq!(
        resp.rejected.len(),
        2,
        "only the two forged orders are refused"
    );
    assert_eq!(
        stored_order(&net, &order_id(0)).assignee.as_deref(),
        Some("tech.a"),
        "nothing of the forged o-0 was stored"
    );
    assert_eq!(
        stored_order(&net, &order_id(1)).assignee.as_deref(),
        Some("tech.b"),
        "nothing of the forged o-1 was stored"
    );
    assert!(
        stored_order(&net, &order_id(2))
            .problem
            .ends_with("(call first)"),
        "the other order of the request was stored"
    );
    assert!(
        net.relay
            .doc_bytes(&DocId::Profile("tech.c".into()))
            .is_some(),
        "the new profile of the request was stored"
    );
}

#[test]
fn an_expired_or_withdrawn_certificate_refuses_the_assignment_even_in_the_same_request() {
    let mut net = Network::in_memory();
    let mut disp = SimDevice::dispatcher_with_orders(2);
    net.sync_until_quiet(&mut disp);

    // Withdraw tech.b's certificate and assign o-0 to tech.b in the same request: the profile
    // the request carries decides, not the stored one.
    let b_id = DocId::Profile("tech.b".into());
    let now = net.clock.now;
    let (d, _) = disp
        .docs
        .get_mut(&b_id)
        .expect("the dispatcher holds tech.b");
    let mut b: TechnicianProfile = doc::read(d).unwrap();
    b.certificate_withdrawn_at_ms = Some(now);
    doc::write(d, &b).unwrap();
    d.commit();
    forge_assignment(&mut disp, &order_id(0), "tech.b");
    let resp = net.exchange(&mut disp);
    let (code, message) = rejection(&resp, &order_id(0)).expect("o-0 is refused");
    assert_eq!(code, Code::AssignmentNotQualified);
    assert!(message.contains("withdrawn"), "says why: {message}");
    assert!(
        rejection(&resp, &b_id).is_none(),
        "the withdrawal itself is stored"
    );

    // An expired certificate, stored earlier, refuses it too.
    let mut disp2 = SimDevice::new("disp2", Role::Dispatcher);
    net.sync_until_quiet(&mut disp2);
    let mut expired = technician_b();
    expired.technician_id = "tech.old".into();
    expired.certificate_expiry_ms = DAY;
    disp2.put(DocId::Profile("tech.old".into()), &expired);
    net.sync_until_quiet(&mut disp2);
    forge_assignment(&mut disp2, &order_id(1), "tech.old");
    let resp = net.exchange(&mut disp2);
    let (code, message) = rejection(&resp, &order_id(1)).expect("o-1 is refused");
    assert_eq!(code, Code::AssignmentNotQualified);
    assert!(message.contains("expired"), "says why: {message}");
    assert_eq!(
        stored_order(&net, &order_id(1)).assignee.as_deref(),
        Some("tech.b"),
        "the assignment to an expired certificate was not stored"
    );
}

#[test]
fn edits_that_do_not_change_the_assignee_are_not_checked_again() {
    let mut net = Network::in_memory();
    let mut disp = SimDevice::dispatcher_with_orders(1);
    net.sync_until_quiet(&mut disp);
    // tech.a's certificate lapses after the assignment; editing the order's text still syncs.
    net.clock.now = DAY + 2 * seed::YEAR;
    disp.edit_order(&order_id(0), |o| o.problem.push_str(" (second floor)"));
    let resp = net.exchange(&mut disp);
    assert!(
        resp.rejected.is_empty(),
        "an existing assignment is not re-judged: {:?}",
        resp.rejected
    );
}

/// A new order `o-<n>` numbered `order_no`.
fn new_order(n: u32, order_no: &str) -> Order {
    let mut new = seed::order(n, DAY);
    new.order_no = order_no.to_owned();
    Order::create(new, &SlaPolicy::default(), DAY).expect("a valid order")
}

#[test]
fn an_order_number_is_used_by_one_order_only() {
    let mut net = Network::in_memory();
    let mut disp = SimDevice::dispatcher_with_orders(1);
    net.sync_until_quiet(&mut disp);
    let taken = disp.read::<Order>(&order_id(0)).order_no;

    // Two dispatchers number orders offline; both pick the same new number, and one reuses an
    // existing one.
    let mut other = SimDevice::new("disp2", Role::Dispatcher);
    disp.put(order_id(10), &new_order(10, "WO-20261203-AAAA-0001"));
    other.put(order_id(20), &new_order(20, "WO-20261203-AAAA-0001"));
    other.put(order_id(21), &new_order(21, &taken));
    other.put(order_id(22), &new_order(22, "WO-20261203-BBBB-0001"));
    other.put(order_id(23), &new_order(23, "WO-20261203-BBBB-0001"));
    net.sync_until_quiet(&mut disp);

    let resp = net.exchange(&mut other);
    for (id, what) in [
        (order_id(20), "a number another device already synced"),
        (order_id(21), "the number of an existing order"),
        (
            order_id(23),
            "a number an earlier order of the same request uses",
        ),
    ] {
        let (code, message) = rejection(&resp, &id).unwrap_or_else(|| panic!("{id} reuses {what}"));
        assert_eq!(code, Code::OrderDuplicateNumber, "{id}: {message}");
        assert!(
            net.relay.doc_bytes(&id).is_none(),
            "nothing of {id} was stored"
        );
    }
    assert!(
        rejection(&resp, &order_id(22)).is_none(),
        "the first order with a fresh number is stored"
    );
    assert_eq!(resp.rejected.len(), 3, "{:?}", resp.rejected);

    // Editing an order without renumbering it is not a duplicate of itself.
    disp.edit_order(&order_id(10), |o| o.problem.push_str(" (again)"));
    let resp = net.exchange(&mut disp);
    assert!(resp.rejected.is_empty(), "{:?}", resp.rejected);
}

#[test]
fn a_dispatchers_decision_on_a_conflict_is_accepted_and_stored() {
    use onsite_domain::resolve::{Resolution, ResolutionAction};
    use onsite_domain::status::ConflictKind;
    let mut net = Network::in_memory();
    let mut disp = SimDevice::dispatcher_with_orders(1);
    net.sync_until_quiet(&mut disp);
    let decision = Resolution {
        id: "rs-1".into(),
        conflict: "stopped_while_on_site|tech.a|on_hold".into(),
        kind: ConflictKind::StoppedWhileOnSite,
        technicians: vec!["tech.a".into()],
        action: ResolutionAction::KeepStopped,
        technician_id: None,
        note: "客户明天在家 / customer home tomorrow".into(),
        by: "disp".into(),
        at_ms: DAY + HOUR,
    };
    let recorded = decision.clone();
    disp.edit_order(&order_id(0), move |o| o.resolutions.push(recorded));
    let resp = net.exchange(&mut disp);
    assert!(
        resp.rejected.is_empty(),
        "the relay's order rules do not refuse a decision: {:?}",
        resp.rejected
    );
    assert_eq!(
        stored_order(&net, &order_id(0)).resolutions,
        vec![decision],
        "the decision is stored on the order"
    );
}
