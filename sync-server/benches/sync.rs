//! Sync figures (not a timed test): drives the relay's request handling over the real SQLite
//! storage in process and counts what would cross the network (JSON, gzip-compressed as the
//! client sends it). Run: `cargo bench -p onsite-relay --bench sync`.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use automerge::{AutoCommit, ChangeHash};
use onsite_domain::edit::{self, EditContext, VisitEdit};
use onsite_domain::order::Order;
use onsite_domain::sla::SlaPolicy;
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, MINUTE, Millis, doc, seed};
use onsite_relay::{Config, RelayStorage, SqliteStorage};
use onsite_sync::access::Principal;
use onsite_sync::device::{self, PeerState};
use onsite_sync::relay::{Caller, Limits};
use onsite_wire::{Role, SyncRequest, SyncResponse};
use sha2::{Digest, Sha256};

const DAY: Millis = 1_790_000_000_000;

fn gz_len(bytes: &[u8]) -> usize {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap().len()
}

#[derive(Default, Debug, Clone, Copy)]
struct Traffic {
    round_trips: usize,
    up: usize,
    down: usize,
    up_raw: usize,
    down_raw: usize,
    time: Duration,
}

struct Device {
    caller: Caller,
    cursor: u64,
    docs: BTreeMap<DocId, (AutoCommit, PeerState)>,
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
            device::incoming(&m.doc, d, st, &m.message).unwrap();
        }
        self.cursor = resp.cursor;
    }

    /// Sync until quiet, counting wire bytes (both directions gzip JSON) and time.
    fn sync(&mut self, s: &SqliteStorage, limits: &Limits) -> Traffic {
        let mut t = Traffic::default();
        let start = Instant::now();
        for _ in 0..10_000 {
            let req = self.request();
            let body = serde_json::to_vec(&req).unwrap();
            t.up_raw += body.len();
            t.up += gz_len(&body);
            let resp = s.sync(&self.caller, &req, limits, DAY).unwrap().response;
            assert!(resp.rejected.is_empty(), "{:?}", resp.rejected);
            let body = serde_json::to_vec(&resp).unwrap();
            t.down_raw += body.len();
            t.down += gz_len(&body);
            self.apply(&resp);
            t.round_trips += 1;
            let pending = self
                .docs
                .values_mut()
                .any(|(d, st)| device::is_unsynced(d, st));
            if !resp.more && !pending {
                t.time = start.elapsed();
                return t;
            }
        }
        panic!("did not become quiet");
    }

    fn edit_order(&mut self, id: &DocId, f: impl FnOnce(&mut Order)) {
        let (d, _) = self.docs.get_mut(id).unwrap();
        let mut o: Order = doc::read(d).unwrap();
        f(&mut o);
        doc::write(d, &o).unwrap();
        d.commit();
    }
}

fn order_id(n: u32) -> DocId {
    DocId::Order(format!("o-{n:05}"))
}

/// The dispatcher creates orders `from..to` (assigned alternately to tech.a and tech.b).
fn create_orders(disp: &mut Device, from: u32, to: u32) {
    let a = seed::technician("tech.a", "Zhang", "1", "C-A", DAY);
    let b = seed::technician("tech.b", "Li", "2", "C-B", DAY);
    for n in from..to {
        let mut o = Order::create(seed::order(n, DAY), &SlaPolicy::default(), DAY).unwrap();
        o.assign(
            &format!("t-{n}"),
            if n % 2 == 0 { &a } else { &b },
            "",
            "disp",
            DAY,
        )
        .unwrap();
        disp.docs
            .insert(order_id(n), (doc::create(&o).unwrap(), PeerState::new()));
    }
}

fn print(label: &str, t: &Traffic) {
    println!(
        "{label}: {} round trip(s), up {} B (raw JSON {} B), down {} B (raw JSON {} B), {:.1} ms",
        t.round_trips,
        t.up,
        t.up_raw,
        t.down,
        t.down_raw,
        t.time.as_secs_f64() * 1000.0
    );
}

/// Technician edits of the demo Haier repair job (`seed::job_edits`) and the customer's signature,
/// applied one by one through the domain rules.
fn completion_edits(order: &Order) -> Vec<VisitEdit> {
    let mut edits = seed::job_edits(order.service_type, "bench");
    edits.push(seed::sign_edit(
        "bench",
        "张伟",
        &hex::encode(Sha256::digest(b"signature png")),
    ));
    edits
}

fn completion(limits: &Limits) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStorage::open(&dir.path().join("relay.sqlite3")).unwrap();
    onsite_relay::seed::seed_demo(&s, &Config::default(), "bench-pass-1", 2, DAY, DAY).unwrap();
    let mut tech = Device::new("tech.a", Role::Technician);
    tech.sync(&s, limits);
    let read = |tech: &mut Device, id: &DocId| -> AutoCommit { tech.docs[id].0.clone() };
    let order: Order = doc::read(&read(&mut tech, &order_id(0))).unwrap();
    let library: onsite_domain::reference::TemplateLibrary =
        doc::read(&read(&mut tech, &DocId::Templates)).unwrap();
    let fees = doc::read(&read(&mut tech, &DocId::FeeSchedule)).unwrap();
    let parts = doc::read(&read(&mut tech, &DocId::PartsCatalogue)).unwrap();
    let profile = doc::read(&read(&mut tech, &DocId::Profile("tech.a".into()))).unwrap();
    let mut visit = Visit::start(&order, "tech.a", &library).unwrap();
    let vid = DocId::visit(&order.order_id, "tech.a");
    let mut vdoc = doc::create(&visit).unwrap();
    let edits = completion_edits(&order);
    let n_edits = edits.len();
    let mut now = DAY + 9 * 60 * MINUTE;
    for e in edits {
        now += MINUTE;
        let ctx = EditContext {
            order: &order,
            library: &library,
            fees: &fees,
            parts: &parts,
            profile: &profile,
            device_id: "dev-tech.a",
            now,
        };
        edit::apply(&mut visit, e, &ctx).unwrap();
        doc::write(&mut vdoc, &visit).unwrap();
        vdoc.commit();
    }
    let raw: usize = vdoc
        .get_changes(&[] as &[ChangeHash])
        .iter()
        .map(|c| c.raw_bytes().len())
        .sum();
    let changes = vdoc.get_changes(&[]).len();
    tech.docs.insert(vid, (vdoc, PeerState::new()));
    let t = tech.sync(&s, limits);
    print("completion upload", &t);
    println!(
        "completion upload: {n_edits} edits → {changes} Automerge changes, raw change bytes {raw} B; upload {} B = {:.2}× raw (signature image travels as an attachment, not in the document)",
        t.up,
        t.up as f64 / raw as f64
    );
}

fn main() {
    let limits = Limits::default();
    completion(&limits);

    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStorage::open(&dir.path().join("relay.sqlite3")).unwrap();
    let mut disp = Device::new("disp", Role::Dispatcher);
    create_orders(&mut disp, 0, 1_000);
    let t = disp.sync(&s, &limits);
    print("upload 1,000 new orders", &t);
    let mut other = Device::new("disp2", Role::Dispatcher);
    let t = other.sync(&s, &limits);
    print("first sync of a device, 1,000 orders", &t);

    for n in 0..50 {
        disp.edit_order(&order_id(n * 2), |o| {
            o.problem.push_str(" (relay-side edit)")
        });
    }
    disp.sync(&s, &limits);
    for n in 0..50 {
        other.edit_order(&order_id(n * 2 + 1), |o| {
            o.problem.push_str(" (device edit)")
        });
    }
    let t = other.sync(&s, &limits);
    print("catch-up, 1,000 orders, 50 changed on each side", &t);

    let t = other.sync(&s, &limits);
    print("no-op sync, 1,000 orders", &t);

    create_orders(&mut disp, 1_000, 10_000);
    let t = disp.sync(&s, &limits);
    print("upload 9,000 more orders", &t);
    let t = other.sync(&s, &limits);
    print("catch-up of 9,000 new orders (paged)", &t);
    let t = other.sync(&s, &limits);
    print("no-op sync, 10,000 orders", &t);
    println!(
        "no-op sync, 10,000 orders: total {} B on the wire (target < 4096 B, 1 round trip)",
        t.up + t.down
    );
    println!("relay stored changes: {}", s.change_count().unwrap());
}
