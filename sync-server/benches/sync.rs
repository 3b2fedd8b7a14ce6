//! Sync figures (not a timed test): drives the relay's request handling over the real SQLite
//! storage in process and counts what would cross the network (JSON, gzip-compressed as the
//! client sends it). Run: `cargo bench -p onsite-relay --bench sync`.

use std::io::Write;
use std::time::{Duration, Instant};

use automerge::ChangeHash;
use onsite_domain::order::Order;
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, MINUTE, doc};
use onsite_relay::{Config, RelayStorage, SqliteStorage};
use onsite_sync::device::PeerState;
use onsite_testkit::job::signed_job_edits;
use onsite_testkit::sim::{Network, SimDevice, order_id};
use onsite_testkit::{DAY, PASSWORD, Reference};
use onsite_wire::Role;
use sha2::{Digest, Sha256};

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

/// Sync `dev` until quiet over `net`, counting wire bytes (both directions gzip JSON) and time.
fn sync(net: &mut Network<SqliteStorage>, dev: &mut SimDevice) -> Traffic {
    let mut t = Traffic::default();
    let start = Instant::now();
    for _ in 0..10_000 {
        let req = dev.request();
        let body = serde_json::to_vec(&req).unwrap();
        t.up_raw += body.len();
        t.up += gz_len(&body);
        let resp = net.serve(&dev.caller, &req);
        assert!(resp.rejected.is_empty(), "{:?}", resp.rejected);
        let body = serde_json::to_vec(&resp).unwrap();
        t.down_raw += body.len();
        t.down += gz_len(&body);
        dev.apply(&resp);
        t.round_trips += 1;
        if !resp.more && dev.unsynced() == 0 {
            t.time = start.elapsed();
            return t;
        }
    }
    panic!("did not become quiet");
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

/// The demo Haier repair job (`seed::job_edits`) and the customer's signature, applied one by one
/// through the domain rules, then uploaded.
fn completion() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStorage::open(&dir.path().join("relay.sqlite3")).unwrap();
    onsite_relay::seed::seed_demo(&s, &Config::default(), PASSWORD, 2, DAY, DAY).unwrap();
    let mut net = Network::new(s);
    let mut tech = SimDevice::new("tech.a", Role::Technician);
    sync(&mut net, &mut tech);
    let order: Order = tech.read(&order_id(0));
    let reference = Reference {
        library: tech.read(&DocId::Templates),
        fees: tech.read(&DocId::FeeSchedule),
        parts: tech.read(&DocId::PartsCatalogue),
        profile: tech.read(&DocId::Profile("tech.a".into())),
        device_id: tech.caller.device_id.clone(),
    };
    let mut visit = Visit::start(&order, "tech.a", &reference.library).unwrap();
    let vid = DocId::visit(&order.order_id, "tech.a");
    let mut vdoc = doc::create(&visit).unwrap();
    let signature = hex::encode(Sha256::digest(b"signature png"));
    let edits = signed_job_edits(order.service_type, "bench", "张伟", &signature);
    let n_edits = edits.len();
    let mut now = DAY + 9 * 60 * MINUTE;
    for e in edits {
        now += MINUTE;
        reference.apply(&mut visit, &order, e, now).unwrap();
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
    let t = sync(&mut net, &mut tech);
    print("completion upload", &t);
    println!(
        "completion upload: {n_edits} edits → {changes} Automerge changes, raw change bytes {raw} B; upload {} B = {:.2}× raw (signature image travels as an attachment, not in the document)",
        t.up,
        t.up as f64 / raw as f64
    );
}

fn main() {
    completion();

    let dir = tempfile::tempdir().unwrap();
    let mut net = Network::new(SqliteStorage::open(&dir.path().join("relay.sqlite3")).unwrap());
    let mut disp = SimDevice::new("disp", Role::Dispatcher);
    disp.add_orders(0..1_000, DAY);
    let t = sync(&mut net, &mut disp);
    print("upload 1,000 new orders", &t);
    let mut other = SimDevice::new("disp2", Role::Dispatcher);
    let t = sync(&mut net, &mut other);
    print("first sync of a device, 1,000 orders", &t);

    for n in 0..50 {
        disp.edit_order(&order_id(n * 2), |o| {
            o.problem.push_str(" (relay-side edit)")
        });
    }
    sync(&mut net, &mut disp);
    for n in 0..50 {
        other.edit_order(&order_id(n * 2 + 1), |o| {
            o.problem.push_str(" (device edit)")
        });
    }
    let t = sync(&mut net, &mut other);
    print("catch-up, 1,000 orders, 50 changed on each side", &t);

    let t = sync(&mut net, &mut other);
    print("no-op sync, 1,000 orders", &t);

    disp.add_orders(1_000..10_000, DAY);
    let t = sync(&mut net, &mut disp);
    print("upload 9,000 more orders", &t);
    let t = sync(&mut net, &mut other);
    print("catch-up of 9,000 new orders (paged)", &t);
    let t = sync(&mut net, &mut other);
    print("no-op sync, 10,000 orders", &t);
    println!(
        "no-op sync, 10,000 orders: total {} B on the wire (target < 4096 B, 1 round trip)",
        t.up + t.down
    );
    println!(
        "relay stored changes: {}",
        net.relay.change_count().unwrap()
    );
}
