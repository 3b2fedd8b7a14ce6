//! What each fuzz target does with its bytes (feature `fuzz`), as plain functions so the same
//! code runs under `cargo fuzz` on nightly (`tests/fuzz/`) and on stable, where
//! `tests/fuzz_replay.rs` replays every kept crasher and corpus file through it.
//!
//! Every function returns the codes of the refusals it met (empty when everything was
//! accepted): hostile bytes must end in a typed error, never a panic or an unbounded allocation.

use std::sync::OnceLock;

use automerge::sync::Message;
use onsite_domain::order::Order;
use onsite_domain::reference::TemplateLibrary;
use onsite_domain::visit::Visit;
use onsite_domain::{Code, DocId, HOUR, MINUTE, admit, doc, seed, templates};
use onsite_sync::access::Principal;
use onsite_sync::cost;
use onsite_sync::memory::MemoryStore;
use onsite_sync::relay::{self, Caller, HandleError, Limits};
use onsite_wire::{ATTACHMENT_TYPES, DocMessage, Role, SyncRequest, check_upload, sniff_image};

use crate::DAY;
use crate::job::{Reference, signature_png, signed_job_edits};
use crate::sim::{Network, SimDevice, order_id, technician_a};

/// What a fuzz target does with its input: the codes of the refusals it met.
pub type Target = fn(&[u8]) -> Vec<Code>;

/// The fuzz targets by name (`tests/fuzz/fuzz_targets/<name>.rs`, `tests/fuzz/corpus/<name>/`).
pub const TARGETS: [(&str, Target); 4] = [
    ("sync_request", sync_request),
    ("document", document),
    ("signature", signature),
    ("attachment", attachment),
];

/// Relay time of every fuzzed request.
const NOW: i64 = DAY + 3 * HOUR;

/// The documents a raw (non-JSON) input's first byte picks for its message.
fn raw_targets() -> [DocId; 7] {
    [
        order_id(0),
        DocId::visit("o-00000", "tech.a"),
        DocId::Templates,
        DocId::Profile("tech.a".into()),
        DocId::Ledger("tech.a".into()),
        DocId::Household("hh-1".into()),
        order_id(9_999),
    ]
}

/// The demo relay the sync target runs against, and the real data the corpora start from.
struct Demo {
    store: MemoryStore,
    order: Order,
    visit: Visit,
    /// Real sync request bodies (JSON, as devices send them).
    requests: Vec<Vec<u8>>,
    /// Real sync messages: (document index in [`raw_targets`], message).
    messages: Vec<(u8, Vec<u8>)>,
}

fn demo() -> &'static Demo {
    static DEMO: OnceLock<Demo> = OnceLock::new();
    DEMO.get_or_init(build_demo)
}

/// A dispatcher uploads the demo's reference documents, profiles and three orders; `tech.a`
/// syncs, starts order 0's visit, does and signs the demo job through the domain's edits.
fn build_demo() -> Demo {
    let mut net = Network::in_memory();
    let mut requests = Vec::new();
    let mut messages = Vec::new();
    let mut admin = SimDevice::new("admin", Role::Admin);
    admin.put(DocId::FeeSchedule, &seed::fee_schedule(DAY - HOUR));
    admin.put(DocId::PartsCatalogue, &seed::parts_catalogue());
    net.sync_until_quiet(&mut admin);
    let mut disp = SimDevice::dispatcher_with_orders(3);
    let first = disp.request();
    requests.push(serde_json::to_vec(&first).expect("a request serialises"));
    let resp = net.serve(&disp.caller, &first);
    disp.apply(&resp);
    net.sync_until_quiet(&mut disp);
    let mut tech = SimDevice::new("tech.a", Role::Technician);
    net.sync_until_quiet(&mut tech);
    let visit_id = tech.start_visit(&order_id(0));
    net.sync_until_quiet(&mut tech);
    let order: Order = tech.read(&order_id(0));
    let reference = Reference::demo(technician_a());
    let edits = signed_job_edits(order.service_type, "job", "赵敏", &"ab".repeat(32));
    tech.edit_visit(&visit_id, |v| {
        for (i, e) in edits.into_iter().enumerate() {
            let now = DAY + 2 * HOUR + i as i64 * MINUTE;
            reference
                .apply(v, &order, e, now)
                .expect("the demo job is valid");
        }
    });
    let signed = tech.request();
    requests.push(serde_json::to_vec(&signed).expect("a request serialises"));
    for m in &signed.docs {
        if let Some(i) = raw_targets().iter().position(|d| *d == m.doc) {
            messages.push((i as u8, m.message.clone()));
        }
    }
    let resp = net.serve(&tech.caller, &signed);
    tech.apply(&resp);
    net.sync_until_quiet(&mut tech);
    Demo {
        visit: tech.read(&visit_id),
        order,
        store: net.relay,
        requests,
        messages,
    }
}

fn caller(user: &str, role: Role) -> Caller {
    Caller {
        principal: Principal {
            user_id: user.into(),
            role,
            centre: crate::sim::CENTRE.into(),
        },
        device_id: format!("dev-{user}"),
    }
}

/// Bytes as the relay's sync route decodes its body (JSON [`SyncRequest`]); bytes that are not
/// JSON are read as one raw sync message — the first byte picks the document — so the fuzzer
/// also reaches the Automerge decoding directly. A request is handled
/// ([`relay::handle`]: prepare, then finish) against a copy of the demo relay, as technician
/// `tech.a` and as the dispatcher.
pub fn sync_request(bytes: &[u8]) -> Vec<Code> {
    let req = match serde_json::from_slice::<SyncRequest>(bytes) {
        Ok(req) => req,
        Err(_) => {
            let Some((first, message)) = bytes.split_first() else {
                return vec![Code::RequestMalformed];
            };
            let docs = raw_targets();
            let doc = docs[usize::from(*first) % docs.len()].clone();
            SyncRequest {
                snapshot: None,
                window_days: None,
                cursor: 0,
                docs: vec![DocMessage {
                    doc,
                    message: message.to_vec(),
                }],
                count_remaining: false,
            }
        }
    };
    let mut codes = Vec::new();
    for who in [
        caller("tech.a", Role::Technician),
        caller("disp", Role::Dispatcher),
    ] {
        let mut store = demo().store.clone();
        match relay::handle(&mut store, &who, &req, &Limits::default(), NOW) {
            Ok(h) => codes.extend(h.response.rejected.iter().map(|r| r.code)),
            Err(HandleError::Refused(e)) => codes.push(e.code()),
            Err(HandleError::Storage(never)) => match never {},
        }
    }
    codes
}

/// Bytes as a stored or incoming document: the relay's cost check on them as one chunk of a
/// message ([`cost::message_ops`]), then, within [`admit::MESSAGE_OPS`], loaded and checked as
/// every kind of document ([`admit::shape`]) and, when it reads as a visit, against the demo
/// order as a new visit, as a change of the demo's signed visit and the other way round
/// ([`admit::visit`]).
pub fn document(bytes: &[u8]) -> Vec<Code> {
    let Ok(message) = Message::decode(&relay::feed_message(&[], vec![bytes.to_vec()])) else {
        return vec![Code::SyncMalformedMessage];
    };
    match cost::message_ops(&message) {
        Err(_) => return vec![Code::SyncMalformedMessage],
        Ok(ops) if ops > admit::MESSAGE_OPS as u64 => return vec![Code::DocumentTooLarge],
        Ok(_) => {}
    }
    let d = match doc::load(bytes) {
        Ok(d) => d,
        Err(e) => return vec![e.code()],
    };
    let ids = [
        order_id(0),
        DocId::visit("o-00000", "tech.a"),
        DocId::Templates,
        DocId::FeeSchedule,
        DocId::PartsCatalogue,
        DocId::Profile("tech.a".into()),
        DocId::Ledger("tech.a".into()),
        DocId::Household("hh-1".into()),
        DocId::ServiceSettings,
        DocId::Bonus,
    ];
    let mut codes: Vec<Code> = ids
        .iter()
        .filter_map(|id| admit::shape(id, &d).err().map(|e| e.code()))
        .collect();
    if let Ok(v) = doc::read::<Visit>(&d) {
        let demo = demo();
        let library: TemplateLibrary = templates::builtin_library();
        for (before, after) in [(None, &v), (Some(&demo.visit), &v), (Some(&v), &demo.visit)] {
            if let Err(e) = admit::visit(before, after, &demo.order, &library) {
                codes.push(e.code());
            }
        }
    }
    codes
}

/// Bytes as the PNG a signature pad produced ([`onsite_record::signature::normalise`]).
pub fn signature(bytes: &[u8]) -> Vec<Code> {
    match onsite_record::signature::normalise(bytes) {
        Ok(_) => Vec::new(),
        Err(e) => vec![e.code()],
    }
}

/// Bytes as an attachment upload: [`sniff_image`], then the relay's check
/// ([`check_upload`]) under every accepted type and one it refuses.
pub fn attachment(bytes: &[u8]) -> Vec<Code> {
    let sniffed = sniff_image(bytes);
    let mut codes = Vec::new();
    for mime in ATTACHMENT_TYPES.iter().chain(&["text/html"]) {
        match check_upload(mime, bytes) {
            Ok(()) => assert_eq!(
                sniffed,
                Some(*mime),
                "an upload is accepted only as the type its bytes are"
            ),
            Err(e) => codes.push(e.code),
        }
    }
    codes
}

/// The seed corpora, from real data: (target, file name, bytes). Written to
/// `tests/fuzz/corpus/<target>/` by `UPDATE_FUZZ_CORPUS=1 cargo test -p onsite-testkit
/// --features fuzz --test fuzz_replay`.
pub fn seed_corpus() -> Vec<(&'static str, String, Vec<u8>)> {
    let demo = demo();
    let mut out = Vec::new();
    for (i, r) in demo.requests.iter().enumerate() {
        out.push(("sync_request", format!("request-{i}.json"), r.clone()));
    }
    for (i, (doc, m)) in demo.messages.iter().enumerate() {
        let mut raw = vec![*doc];
        raw.extend_from_slice(m);
        out.push(("sync_request", format!("message-{i}.bin"), raw));
    }
    for id in demo.store.doc_ids() {
        let name = id.to_string().replace([':', '.'], "_");
        let bytes = demo.store.doc_bytes(id).expect("a listed document");
        out.push(("document", format!("{name}.automerge"), bytes.to_vec()));
    }
    let png = signature_png();
    let stroke = onsite_record::signature::demo_signature().png;
    out.push(("signature", "pixel.png".into(), png.clone()));
    out.push(("signature", "stroke.png".into(), stroke.clone()));
    out.push(("attachment", "pixel.png".into(), png));
    out.push(("attachment", "stroke.png".into(), stroke));
    out.push((
        "attachment",
        "header.jpg".into(),
        vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0],
    ));
    out.push((
        "attachment",
        "header.webp".into(),
        b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0\x2f\0\0\0\x10\x07\x10\x11\x11\x88\x88\xfe\x07\0"
            .to_vec(),
    ));
    out
}
