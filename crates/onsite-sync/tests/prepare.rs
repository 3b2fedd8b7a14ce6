//! A request is prepared (decoded, applied, checked) without any claim on the store and
//! committed only if what it loaded is unchanged: another request committed in between on the
//! same document makes it prepare again; on other documents it goes straight through. This is
//! what lets the relay merge Automerge data without holding the lock other requests need.

use onsite_domain::visit::Visit;
use onsite_domain::{DocId, doc};
use onsite_sync::device;
use onsite_sync::memory::MemoryStore;
use onsite_sync::relay::{self, Limits};
use onsite_testkit::DAY;
use onsite_testkit::sim::{Network, SimDevice, order_id};
use onsite_wire::{DocMessage, Role, SyncRequest};

fn stored_visit(store: &MemoryStore, id: &DocId) -> Visit {
    let bytes = store.doc_bytes(id).expect("the relay holds the visit");
    doc::read(&doc::load(bytes).expect("loads")).expect("a visit")
}

/// tech.a with its visits of orders 0 and 2 on the relay, and a second device of tech.a.
fn two_devices() -> (Network<MemoryStore>, SimDevice, SimDevice, DocId, DocId) {
    let mut net = Network::in_memory();
    let mut disp = SimDevice::dispatcher_with_orders(3);
    net.sync_until_quiet(&mut disp);
    let mut phone = SimDevice::new("tech.a", Role::Technician);
    net.sync_until_quiet(&mut phone);
    let v0 = phone.start_visit(&order_id(0));
    let v2 = phone.start_visit(&order_id(2));
    net.sync_until_quiet(&mut phone);
    let mut tablet = SimDevice::new("tech.a", Role::Technician);
    tablet.caller.device_id = "tablet".into();
    net.sync_until_quiet(&mut tablet);
    (net, phone, tablet, v0, v2)
}

#[test]
fn a_commit_on_the_same_document_in_between_makes_the_request_prepare_again() {
    let (mut net, mut phone, mut tablet, v0, _) = two_devices();
    phone.edit_visit(&v0, |v| v.diagnosis = "from the phone".into());
    tablet.edit_visit(&v0, |v| v.work_performed = "from the tablet".into());
    let (phone_req, tablet_req) = (phone.request(), tablet.request());
    let limits = Limits::default();

    let prepared =
        relay::prepare(&mut net.relay, &phone.caller, &phone_req, &limits, DAY).expect("prepared");
    let tablet_resp = relay::handle(&mut net.relay, &tablet.caller, &tablet_req, &limits, DAY)
        .expect("the tablet's request commits meanwhile");
    assert_eq!(
        tablet_resp.response.stored_changes, 1,
        "the tablet's edit is stored"
    );
    let stale = relay::finish(
        &mut net.relay,
        &phone.caller,
        &phone_req,
        prepared,
        &limits,
        DAY,
    )
    .expect("no error");
    assert!(
        stale.is_none(),
        "the phone's prepared merge is stale: committing it would drop the tablet's change"
    );

    let handled = relay::handle(&mut net.relay, &phone.caller, &phone_req, &limits, DAY)
        .expect("prepared again and committed");
    assert_eq!(
        handled.response.stored_changes, 1,
        "the phone's edit is stored"
    );
    let v = stored_visit(&net.relay, &v0);
    assert_eq!(
        (v.diagnosis.as_str(), v.work_performed.as_str()),
        ("from the phone", "from the tablet"),
        "both devices' edits are kept"
    );
}

#[test]
fn a_commit_on_other_documents_in_between_does_not_hold_the_request_up() {
    let (mut net, mut phone, mut tablet, v0, v2) = two_devices();
    phone.edit_visit(&v0, |v| v.diagnosis = "order 0".into());
    tablet.edit_visit(&v2, |v| v.diagnosis = "order 2".into());
    let (phone_req, tablet_req) = (phone.request(), tablet.request());
    let limits = Limits::default();

    let prepared =
        relay::prepare(&mut net.relay, &phone.caller, &phone_req, &limits, DAY).expect("prepared");
    relay::handle(&mut net.relay, &tablet.caller, &tablet_req, &limits, DAY)
        .expect("the tablet's request commits meanwhile");
    let handled = relay::finish(
        &mut net.relay,
        &phone.caller,
        &phone_req,
        prepared,
        &limits,
        DAY,
    )
    .expect("no error")
    .expect("nothing it loaded changed, so it commits as prepared");
    assert_eq!(
        handled.response.stored_changes, 1,
        "the phone's edit is stored"
    );
    assert_eq!(stored_visit(&net.relay, &v0).diagnosis, "order 0");
    assert_eq!(stored_visit(&net.relay, &v2).diagnosis, "order 2");
}

#[test]
fn an_order_number_taken_in_between_makes_the_request_prepare_again_and_be_refused() {
    let mut net = Network::in_memory();
    let mut a = SimDevice::dispatcher_with_orders(1);
    net.sync_until_quiet(&mut a);
    let mut b = SimDevice::new("disp2", Role::Dispatcher);
    net.sync_until_quiet(&mut b);
    a.add_orders(10..11, DAY);
    b.add_orders(20..21, DAY);
    // Both new orders carry the same number.
    b.edit_order(&order_id(20), |o| o.order_no = "WO-00010".into());
    let (a_req, b_req) = (a.request(), b.request());
    let limits = Limits::default();

    let prepared =
        relay::prepare(&mut net.relay, &b.caller, &b_req, &limits, DAY).expect("prepared");
    relay::handle(&mut net.relay, &a.caller, &a_req, &limits, DAY)
        .expect("a's order commits first");
    assert!(
        relay::finish(&mut net.relay, &b.caller, &b_req, prepared, &limits, DAY)
            .expect("no error")
            .is_none(),
        "the number b would give out was taken meanwhile"
    );
    let handled = relay::handle(&mut net.relay, &b.caller, &b_req, &limits, DAY).expect("handled");
    assert_eq!(
        handled.response.rejected.first().map(|r| r.code),
        Some(onsite_wire::Code::OrderDuplicateNumber),
        "prepared again, b's order is refused for its number"
    );
}

#[test]
fn a_document_only_asked_about_and_changed_in_between_still_reaches_the_device() {
    let (mut net, mut phone, _, v0, _) = two_devices();
    let mut disp = SimDevice::new("disp", Role::Dispatcher);
    net.sync_until_quiet(&mut disp);
    // The dispatcher's device asks about the visit without changing it (an acknowledgement).
    let ask = SyncRequest {
        snapshot: None,
        window_days: None,
        cursor: disp.cursor,
        docs: vec![DocMessage {
            doc: v0.clone(),
            message: device::request_missing(),
        }],
        count_remaining: false,
    };
    let limits = Limits::default();
    let prepared =
        relay::prepare(&mut net.relay, &disp.caller, &ask, &limits, DAY).expect("prepared");
    phone.edit_visit(&v0, |v| v.diagnosis = "changed meanwhile".into());
    let phone_req = phone.request();
    relay::handle(&mut net.relay, &phone.caller, &phone_req, &limits, DAY)
        .expect("the technician's edit commits meanwhile");
    let handled = relay::finish(&mut net.relay, &disp.caller, &ask, prepared, &limits, DAY)
        .expect("no error")
        .expect("it wrote nothing, so it answers as prepared");
    disp.apply(&handled.response);
    assert_eq!(
        disp.read::<Visit>(&v0).diagnosis,
        "changed meanwhile",
        "the answer's cursor passes the technician's change, so the answer must carry it: the \
         reply made from the prepared copy lacks it, the feed must send it"
    );
}
