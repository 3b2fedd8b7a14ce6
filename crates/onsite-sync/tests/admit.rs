//! The relay runs the domain's own rules on every incoming change, so a modified client cannot
//! store what the app's edits would refuse: edit a signed record, invent a signature, rewrite or
//! reorder the timeline, or make a field cost the relay seconds and megabytes. Each refusal
//! carries the rule's code, stores nothing of that document, and leaves the rest of the request
//! to proceed.

use automerge::transaction::Transactable;
use automerge::{ObjType, ROOT};
use onsite_domain::order::Order;
use onsite_domain::visit::{Signature, Visit};
use onsite_domain::{DocId, HOUR, MINUTE, admit, doc};
use onsite_sync::memory::MemoryStore;
use onsite_sync::relay::{self, Limits};
use onsite_testkit::DAY;
use onsite_testkit::job::{Reference, signed_job_edits};
use onsite_testkit::sim::{Network, SimDevice, order_id, technician_a};
use onsite_wire::{Code, Role, SyncResponse};

/// A relay with order 0 assigned to tech.a, and tech.a's device holding it and its visit.
fn technician_with_visit() -> (Network<MemoryStore>, SimDevice, DocId) {
    let mut net = Network::in_memory();
    let mut disp = SimDevice::dispatcher_with_orders(1);
    net.sync_until_quiet(&mut disp);
    let mut tech = SimDevice::new("tech.a", Role::Technician);
    net.sync_until_quiet(&mut tech);
    let visit = tech.start_visit(&order_id(0));
    net.sync_until_quiet(&mut tech);
    (net, tech, visit)
}

/// The demo job done and signed on the technician's device through the domain's edits.
fn sign_the_job(tech: &mut SimDevice, visit: &DocId) {
    let order: Order = tech.read(&order_id(0));
    let reference = Reference::demo(technician_a());
    let sha = "ab".repeat(32);
    let edits = signed_job_edits(order.service_type, "job", "赵敏", &sha);
    tech.edit_visit(visit, |v| {
        for (i, e) in edits.into_iter().enumerate() {
            let now = DAY + 2 * HOUR + i as i64 * MINUTE;
            reference
                .apply(v, &order, e, now)
                .expect("the demo job is valid");
        }
    });
}

fn refusal(resp: &SyncResponse, id: &DocId) -> Option<(Code, String)> {
    resp.rejected
        .iter()
        .find(|r| &r.doc == id)
        .map(|r| (r.code, r.message.clone()))
}

fn stored_visit(net: &Network<MemoryStore>, id: &DocId) -> Visit {
    let bytes = net.relay.doc_bytes(id).expect("the relay holds the visit");
    doc::read(&doc::load(bytes).expect("it loads")).expect("it is a visit")
}

/// Send `tech`'s pending changes; assert the visit is refused with `code` and not stored.
fn assert_refused(net: &mut Network<MemoryStore>, tech: &mut SimDevice, visit: &DocId, code: Code) {
    let before = net.relay.doc_bytes(visit).map(<[u8]>::to_vec);
    let resp = net.exchange(tech);
    let (got, message) = refusal(&resp, visit).expect("the forged visit is refused");
    assert_eq!(got, code, "refused with the rule's code: {message}");
    assert!(
        message.contains("nothing of"),
        "the message says nothing was stored: {message}"
    );
    assert_eq!(
        net.relay.doc_bytes(visit).map(<[u8]>::to_vec),
        before,
        "nothing of the refused visit was stored"
    );
}

#[test]
fn a_signed_job_done_through_the_edits_is_accepted() {
    let (mut net, mut tech, visit) = technician_with_visit();
    sign_the_job(&mut tech, &visit);
    let resp = net.exchange(&mut tech);
    assert!(
        resp.rejected.is_empty(),
        "a real job passes: {:?}",
        resp.rejected
    );
    assert!(
        stored_visit(&net, &visit).is_signed(),
        "the signed record is on the relay"
    );
}

#[test]
fn a_signed_record_is_frozen_at_the_relay() {
    let (mut net, mut tech, visit) = technician_with_visit();
    sign_the_job(&mut tech, &visit);
    net.sync_until_quiet(&mut tech);
    tech.edit_visit(&visit, |v| v.diagnosis = "changed after signing".into());
    assert_refused(&mut net, &mut tech, &visit, Code::RecordFrozen);
}

#[test]
fn an_invented_signature_is_refused() {
    let (mut net, mut tech, visit) = technician_with_visit();
    // The visit is started but nothing is done: a forged client signs it anyway.
    tech.edit_visit(&visit, |v| {
        v.signature = Some(Signature {
            record_hash: "00".repeat(32),
            signer_name: "nobody".into(),
            technician_name: "Zhang San".into(),
            certificate_id: "CERT-A".into(),
            image_sha256: "ab".repeat(32),
            signed_at_ms: DAY + 3 * HOUR,
            sections: Default::default(),
            reopened_at_ms: None,
            reopen_reason: String::new(),
        });
    });
    assert_refused(&mut net, &mut tech, &visit, Code::ProgressInvalidTransition);
}

#[test]
fn a_signature_over_other_content_is_refused() {
    let (mut net, mut tech, visit) = technician_with_visit();
    sign_the_job(&mut tech, &visit);
    // Signed, then the notes changed in the same unsynced state: the signature no longer
    // matches what the relay would store.
    tech.edit_visit(&visit, |v| v.work_performed = "something else".into());
    assert_refused(&mut net, &mut tech, &visit, Code::RecordSignatureMismatch);
}

#[test]
fn the_timeline_is_append_only_and_in_order() {
    let (mut net, mut tech, visit) = technician_with_visit();
    sign_the_job(&mut tech, &visit);
    net.sync_until_quiet(&mut tech);
    let mut rewritten = tech.docs[&visit].0.clone();
    // Move a step: an earlier event is changed.
    tech.edit_visit(&visit, |v| v.events[0].at_ms -= HOUR);
    assert_refused(&mut net, &mut tech, &visit, Code::ProgressRewritten);

    // Back to the signed job, then a step recorded before the last one.
    let mut v: Visit = doc::read(&rewritten).expect("a visit");
    v.events.push(onsite_domain::progress::ProgressEvent {
        id: "late".into(),
        kind: onsite_domain::progress::ProgressKind::Reopened,
        at_ms: DAY,
        device_id: "dev-tech.a".into(),
    });
    doc::write(&mut rewritten, &v).expect("writes");
    tech.docs.get_mut(&visit).expect("held").0 = rewritten;
    assert_refused(&mut net, &mut tech, &visit, Code::ProgressTimeWentBackwards);
}

#[test]
fn an_over_long_field_is_refused_by_its_size() {
    let (mut net, mut tech, visit) = technician_with_visit();
    tech.edit_visit(&visit, |v| v.diagnosis = "长".repeat(admit::TEXT_CHARS + 1));
    assert_refused(&mut net, &mut tech, &visit, Code::InputTooLong);
}

#[test]
fn a_million_character_insert_is_refused_before_it_is_applied() {
    let (mut net, mut tech, visit) = technician_with_visit();
    let (d, _) = tech.docs.get_mut(&visit).expect("held");
    let text = d
        .put_object(ROOT, "diagnosis", ObjType::Text)
        .expect("a text field");
    d.splice_text(&text, 0, 0, &"a".repeat(1_000_000))
        .expect("spliced");
    d.commit();
    assert_refused(&mut net, &mut tech, &visit, Code::DocumentTooLarge);
}

#[test]
fn damaged_change_bytes_fail_the_request_even_for_an_existing_document() {
    let (mut net, mut tech, visit) = technician_with_visit();
    tech.edit_visit(&visit, |v| v.diagnosis = "compressor noise".into());
    let mut req = tech.request();
    let m = req
        .docs
        .iter_mut()
        .find(|m| m.doc == visit)
        .expect("the visit is sent");
    let mut decoded = automerge::sync::Message::decode(&m.message).expect("a message");
    let mut chunk: Vec<u8> = decoded.changes.iter().flatten().copied().collect();
    assert!(!chunk.is_empty(), "the message carries the change");
    let last = chunk.len() - 1;
    chunk[last] ^= 0x55;
    decoded.changes = vec![chunk].into();
    m.message = decoded.encode();
    let before = net.relay.doc_bytes(&visit).map(<[u8]>::to_vec);
    let err = relay::handle(&mut net.relay, &tech.caller, &req, &Limits::default(), DAY)
        .expect_err("a damaged change is not silently dropped");
    assert!(
        err.to_string().contains(&visit.to_string()),
        "the error names the document: {err}"
    );
    match err {
        relay::HandleError::Refused(e) => {
            assert_eq!(e.code(), Code::SyncMalformedMessage, "stable code: {e}")
        }
        relay::HandleError::Storage(e) => panic!("not a storage error: {e}"),
    }
    assert_eq!(
        net.relay.doc_bytes(&visit).map(<[u8]>::to_vec),
        before,
        "nothing stored"
    );
}

#[test]
fn a_refused_visit_leaves_the_rest_of_the_request_to_proceed() {
    let mut net = Network::in_memory();
    let mut disp = SimDevice::dispatcher_with_orders(3);
    net.sync_until_quiet(&mut disp);
    let mut tech = SimDevice::new("tech.a", Role::Technician);
    net.sync_until_quiet(&mut tech);
    // Orders 0 and 2 are tech.a's: one visit is fine, the other forged.
    let good = tech.start_visit(&order_id(0));
    let bad = tech.start_visit(&order_id(2));
    tech.edit_visit(&good, |v| v.diagnosis = "fine".into());
    tech.edit_visit(&bad, |v| v.events.clear());
    net.sync_until_quiet(&mut tech);
    tech.edit_visit(&good, |v| v.diagnosis = "fine again".into());
    tech.edit_visit(&bad, |v| {
        v.work_performed = "x".repeat(admit::TEXT_CHARS + 1)
    });
    let resp = net.exchange(&mut tech);
    let (code, message) = refusal(&resp, &bad).expect("the forged visit is refused");
    assert_eq!(code, Code::InputTooLong, "its rule's code: {message}");
    assert_eq!(resp.rejected.len(), 1, "only the forged visit is refused");
    assert_eq!(
        stored_visit(&net, &good).diagnosis,
        "fine again",
        "the valid visit of the same request is stored"
    );
}
