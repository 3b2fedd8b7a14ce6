//! Fault injection (issue 12 §4; `docs/reliability.md`): the relay process killed with SIGKILL
//! at random points while devices sync, a device process killed with SIGKILL while it syncs, and
//! a misbehaving network (`onsite_tests::proxy`) between devices and relay. After each, nothing
//! a device was told is stored may be missing, nothing may be stored twice, and every device
//! converges with the relay by itself. Counts are smoke-sized here; `ONSITE_HEAVY=1` (or each
//! test's own variable) runs the heavy variant.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use automerge::{AutoCommit, ChangeHash};
use onsite_domain::edit::VisitEdit;
use onsite_domain::order::Order;
use onsite_domain::visit::{CheckResult, Visit};
use onsite_domain::{DocId, HOUR, doc};
use onsite_relay::RelayStorage;
use onsite_testkit::DAY;
use onsite_testkit::heavy::{runs, seed};
use onsite_testkit::relay::{ORDERS, Seeded, seeded_database};
use onsite_tests::Device;
use onsite_tests::proxy::FaultProxy;
use onsite_tests::relay_process::RelayProcess;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const RELAY_EXE: &str = env!("CARGO_BIN_EXE_onsite-fault-relay");
const DEVICE_EXE: &str = env!("CARGO_BIN_EXE_onsite-fault-device");
const TECHS: [&str; 2] = ["tech.a", "tech.b"];
/// Device time of the edits.
const NOW: i64 = DAY + 9 * HOUR;
/// Home checks a visit keeps before the oldest is removed for a new one.
const KEEP_CHECKS: usize = 400;

/// Today's orders of `tech` in the seeded demo (even numbers are `tech.a`'s, odd `tech.b`'s).
fn todays(tech: &str) -> Vec<String> {
    let first = if tech == "tech.a" { 0 } else { 1 };
    (first..ORDERS)
        .step_by(2)
        .map(|n| format!("o-{n:05}"))
        .collect()
}

fn all_todays() -> Vec<String> {
    (0..ORDERS).map(|n| format!("o-{n:05}")).collect()
}

/// Sync, start a visit on each of today's orders and sync again.
async fn ready_technician(d: &Device) {
    d.sync().await.expect("first sync");
    d.with_store(|s| {
        for o in todays(&d.user) {
            s.start_visit(&o, &d.user).expect("start a visit");
        }
    });
    d.sync().await.expect("upload the visits");
}

fn add_check(d: &Device, order: &str, id: &str) {
    let edit = VisitEdit::AddHomeCheck {
        id: id.to_owned(),
        appliance: "空调 air conditioner".into(),
        result: CheckResult::Ok,
        note: String::new(),
    };
    d.with_store(|s| s.apply_visit_edit(order, &d.user, edit, NOW))
        .unwrap_or_else(|e| panic!("{}: add home check {id}: {e}", d.user));
}

fn set_note(d: &Device, order: &str, note: &str) {
    d.with_store(|s| {
        s.update::<Order, _>(&DocId::Order(order.to_owned()), |o| {
            o.customer.notes = note.to_owned();
            Ok(())
        })
    })
    .unwrap_or_else(|e| panic!("dispatcher's note on {order}: {e}"));
}

/// What the devices did and what the relay acknowledged to them.
#[derive(Default)]
struct Ledger {
    /// Every home check made: id → its visit.
    made: BTreeMap<String, DocId>,
    /// Home checks in a document the device no longer had pending after a sync.
    acked: BTreeSet<String>,
    /// Home checks removed again (long runs keep each visit's list within its limit).
    removed: BTreeSet<String>,
    /// Every note the dispatcher wrote per order, in order, and how many were acknowledged.
    notes: BTreeMap<String, (Vec<String>, usize)>,
}

impl Ledger {
    fn check(&mut self, d: &Device, order: &str, id: String) {
        let vid = DocId::visit(order, &d.user);
        let v: Visit = d.with_store(|s| s.read(&vid)).expect("the visit");
        if v.home_checks.len() >= KEEP_CHECKS {
            // A visit's lists hold at most `admit::ENTRIES`: long runs remove the oldest check,
            // which then must not come back.
            let oldest = v.home_checks[0].id.clone();
            let edit = VisitEdit::RemoveHomeCheck { id: oldest.clone() };
            d.with_store(|s| s.apply_visit_edit(order, &d.user, edit, NOW))
                .unwrap_or_else(|e| panic!("{}: remove home check {oldest}: {e}", d.user));
            self.removed.insert(oldest);
        }
        add_check(d, order, &id);
        self.made.insert(id, vid);
    }

    fn note(&mut self, d: &Device, order: &str, note: String) {
        set_note(d, order, &note);
        self.notes.entry(order.to_owned()).or_default().0.push(note);
    }

    /// Everything in a document that `d` no longer holds as pending is acknowledged.
    fn acknowledge(&mut self, d: &Device) {
        let pending: BTreeSet<DocId> = d.with_store(|s| {
            s.pending_docs()
                .expect("pending documents")
                .into_iter()
                .collect()
        });
        for (id, vid) in &self.made {
            let mine =
                matches!(vid, DocId::Visit { technician_id, .. } if *technician_id == d.user);
            if mine && !pending.contains(vid) {
                self.acked.insert(id.clone());
            }
        }
        if d.user == "disp" {
            for (order, (written, acked)) in &mut self.notes {
                if !pending.contains(&DocId::Order(order.clone())) {
                    *acked = written.len();
                }
            }
        }
    }

    /// The relay holds every acknowledged edit, none twice; `all` demands every edit made.
    fn assert_held(&self, relay: &dyn RelayStorage, all: bool, context: &str) {
        let visits: BTreeSet<&DocId> = self.made.values().collect();
        let mut held: BTreeMap<String, usize> = BTreeMap::new();
        for vid in visits {
            let v: Visit = doc::read(&relay_doc(relay, vid)).expect("a visit");
            for h in v.home_checks {
                *held.entry(h.id).or_default() += 1;
            }
        }
        let twice: Vec<_> = held.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "{context}: stored twice: {twice:?}");
        let must: Vec<&String> = match all {
            true => self.made.keys().collect(),
            false => self.acked.iter().collect(),
        };
        let must: Vec<&String> = must
            .into_iter()
            .filter(|id| !self.removed.contains(*id))
            .collect();
        if all {
            let back: Vec<_> = self
                .removed
                .iter()
                .filter(|id| held.contains_key(*id))
                .collect();
            assert!(
                back.is_empty(),
                "{context}: removed entries came back: {back:?}"
            );
        }
        let lost: Vec<_> = must
            .into_iter()
            .filter(|id| !held.contains_key(*id))
            .collect();
        assert!(
            lost.is_empty(),
            "{context}: acknowledged edits lost: {lost:?}"
        );
        for (order, (written, acked)) in &self.notes {
            let o: Order = doc::read(&relay_doc(relay, &DocId::Order(order.clone()))).unwrap();
            let at = written.iter().position(|n| *n == o.customer.notes);
            let least = if all { written.len() } else { *acked };
            if least == 0 {
                continue;
            }
            assert!(
                at.is_some_and(|at| at + 1 >= least),
                "{context}: {order}'s note on the relay is {:?}, older than the {least} acknowledged",
                o.customer.notes
            );
        }
    }
}

fn relay_doc(relay: &dyn RelayStorage, id: &DocId) -> AutoCommit {
    let bytes = relay.doc(id).expect("relay storage").expect("on the relay");
    doc::load(&bytes).expect("the relay's document loads")
}

fn sorted_heads(mut d: AutoCommit) -> Vec<ChangeHash> {
    let mut h = d.get_heads();
    h.sort();
    h
}

/// Sync every device until none has anything pending, then check that each holds every
/// document it shares with the relay at the relay's heads.
async fn converge(devices: &[&Device], relay: &dyn RelayStorage, context: &str) {
    for round in 0.. {
        for d in devices {
            d.sync()
                .await
                .unwrap_or_else(|e| panic!("{context}: {} syncs once the faults end: {e}", d.user));
        }
        let pending: i64 = devices
            .iter()
            .map(|d| d.with_store(|s| s.pending_count().expect("pending")))
            .sum();
        if pending == 0 && round >= 1 {
            break;
        }
        assert!(
            round < 10,
            "{context}: devices still have {pending} pending documents"
        );
    }
    for d in devices {
        for id in d.with_store(|s| s.list_doc_ids().expect("documents")) {
            let mine = d.with_store(|s| s.load_doc(&id).expect("load"));
            let relays = relay_doc(relay, &id);
            assert_eq!(
                sorted_heads(mine),
                sorted_heads(relays),
                "{context}: {} must hold {id} exactly as the relay does",
                d.user
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_killed_at_random_points_during_sync_batches_loses_and_doubles_nothing() {
    let iterations = runs("ONSITE_FAULT_RELAY_KILLS", 50, 1_000);
    let seed = seed("ONSITE_FAULT_SEED", 0x0F_A017);
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = seeded_database(dir.path(), DAY);
    let mut relay = RelayProcess::start(RELAY_EXE, &db).await;
    let disp = Device::sign_in(&relay.url(), "disp").await;
    let a = Device::sign_in(&relay.url(), TECHS[0]).await;
    let b = Device::sign_in(&relay.url(), TECHS[1]).await;
    for t in [&a, &b] {
        ready_technician(t).await;
    }
    disp.sync().await.expect("the dispatcher's first sync");
    let mut ledger = Ledger::default();
    let mut cut = 0;
    let mut acked_before_kill = 0;
    for i in 0..iterations {
        for t in [&a, &b] {
            for k in 0..rng.random_range(1..=2) {
                let orders = todays(&t.user);
                let order = &orders[rng.random_range(0..orders.len())];
                ledger.check(t, order, format!("{}-{i}-{k}", t.user));
            }
        }
        let order = &all_todays()[rng.random_range(0..ORDERS as usize)];
        ledger.note(&disp, order, format!("note {i}"));
        // A batch takes some tens of milliseconds here: the kill lands before, inside and
        // after the relay's commits.
        let delay = Duration::from_micros(rng.random_range(0..150_000));
        let (ra, rb, rd, ()) = tokio::join!(a.sync(), b.sync(), disp.sync(), async {
            tokio::time::sleep(delay).await;
            relay.kill();
        });
        cut += [ra.is_err(), rb.is_err(), rd.is_err()]
            .iter()
            .filter(|e| **e)
            .count();
        for d in [&a, &b, &disp] {
            ledger.acknowledge(d);
        }
        acked_before_kill = ledger.acked.len();
        relay.restart().await;
        let storage = onsite_relay::SqliteStorage::open(&db).expect("open the relay database");
        ledger.assert_held(&storage, false, &format!("iteration {i} (seed {seed})"));
    }
    let storage = onsite_relay::SqliteStorage::open(&db).expect("open the relay database");
    converge(&[&a, &b, &disp], &storage, "after the kills").await;
    ledger.assert_held(&storage, true, "after the kills");
    println!(
        "relay kills: {iterations} iterations, {cut} of {} syncs cut by the kill, {} edits ({} acknowledged before a kill), 0 lost, 0 doubled",
        3 * iterations,
        ledger.made.len() + ledger.notes.values().map(|n| n.0.len()).sum::<usize>(),
        acked_before_kill
    );
    assert!(cut > 0, "some kills must land during a sync (seed {seed})");
}

/// Run the device process on `dir` until it has started `syncs` syncs, then SIGKILL it a
/// random moment later. Returns the edits it reported committed (id → order).
fn run_and_kill(dir: &std::path::Path, i: u64, rng: &mut StdRng) -> BTreeMap<String, String> {
    let orders = todays(TECHS[0]).join(",");
    let mut child = Command::new(DEVICE_EXE)
        .args([
            dir.to_str().expect("utf-8 temp path"),
            &orders,
            &format!("k{i}"),
            "6",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the device process");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut made = BTreeMap::new();
    let seen = |line: &str, made: &mut BTreeMap<String, String>| {
        if let Some(rest) = line.trim().strip_prefix("edit ") {
            let (order, id) = rest.split_once(' ').expect("edit <order> <id>");
            made.insert(id.to_owned(), order.to_owned());
        }
        line.trim() == "sync"
    };
    let syncs = rng.random_range(1..=6);
    let mut started = 0;
    let mut line = String::new();
    while started < syncs && out.read_line(&mut line).expect("device stdout") > 0 {
        started += usize::from(seen(&line, &mut made));
        line.clear();
    }
    std::thread::sleep(Duration::from_micros(rng.random_range(0..15_000)));
    child.kill().expect("SIGKILL the device");
    for rest in out.lines() {
        seen(&rest.expect("device stdout"), &mut made);
    }
    let status = child.wait().expect("reap the device");
    if status.code().is_some_and(|c| c != 0) {
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err).ok();
        panic!("iteration {i}: the device process failed on its own ({status}): {err}");
    }
    made
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_killed_while_it_syncs_resumes_with_nothing_lost_or_doubled() {
    let iterations = runs("ONSITE_FAULT_DEVICE_KILLS", 20, 300);
    let seed = seed("ONSITE_FAULT_SEED", 0x0F_A017);
    let mut rng = StdRng::seed_from_u64(seed);
    let s = Seeded::start().await;
    let tech = Device::sign_in(&s.url, TECHS[0]).await;
    ready_technician(&tech).await;
    let mut dir = tech.into_dir();
    let mut ledger = Ledger::default();
    for i in 0..iterations {
        let made = run_and_kill(dir.path(), i, &mut rng);
        let d = Device::open(dir, &s.url);
        d.with_store(|st| st.integrity_check())
            .unwrap_or_else(|e| panic!("iteration {i}: the store must pass its check: {e}"));
        for (id, order) in made {
            let vid = DocId::visit(&order, &d.user);
            let v: Visit = d.with_store(|st| st.read(&vid)).expect("the visit");
            assert_eq!(
                v.home_checks.iter().filter(|h| h.id == id).count(),
                1,
                "iteration {i}: the committed edit {id} is on the device once after SIGKILL"
            );
            ledger.made.insert(id, vid);
        }
        // Resume: the next sync (here, in-process) picks up where the killed one stopped.
        d.sync()
            .await
            .unwrap_or_else(|e| panic!("iteration {i}: the device resumes syncing: {e}"));
        ledger.acknowledge(&d);
        ledger.assert_held(s.relay().storage.as_ref(), true, &format!("iteration {i}"));
        dir = d.into_dir();
    }
    let d = Device::open(dir, &s.url);
    converge(&[&d], s.relay().storage.as_ref(), "after the device kills").await;
    println!(
        "device kills: {iterations} iterations, {} edits, 0 lost, 0 doubled",
        ledger.made.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_faulty_network_schedule_ends_converged_without_duplicates() {
    let schedules = runs("ONSITE_FAULT_PROXY_SCHEDULES", 6, 200);
    let seed = seed("ONSITE_FAULT_SEED", 0x0F_A017);
    let mut rng = StdRng::seed_from_u64(seed);
    let s = Seeded::start().await;
    let target = s
        .url
        .trim_start_matches("http://")
        .parse()
        .expect("relay address");
    let mut disp = Device::sign_in(&s.url, "disp").await;
    let mut a = Device::sign_in(&s.url, TECHS[0]).await;
    let mut b = Device::sign_in(&s.url, TECHS[1]).await;
    for t in [&a, &b] {
        ready_technician(t).await;
    }
    disp.sync().await.expect("the dispatcher's first sync");
    let mut ledger = Ledger::default();
    let mut failed = 0;
    let mut totals: BTreeMap<(&str, bool), u32> = BTreeMap::new();
    for sch in 0..schedules {
        let proxy = FaultProxy::start(target, seed ^ (sch << 8)).await;
        for d in [&mut disp, &mut a, &mut b] {
            d.set_relay(&proxy.url());
        }
        for round in 0..6 {
            for t in [&a, &b] {
                let orders = todays(&t.user);
                let order = &orders[rng.random_range(0..orders.len())];
                ledger.check(t, order, format!("{}-{sch}-{round}", t.user));
            }
            let order = &all_todays()[rng.random_range(0..ORDERS as usize)];
            ledger.note(&disp, order, format!("note {sch}.{round}"));
            let (ra, rb, rd) = tokio::join!(a.sync(), b.sync(), disp.sync());
            failed += [ra.is_err(), rb.is_err(), rd.is_err()]
                .iter()
                .filter(|e| **e)
                .count();
        }
        proxy.heal();
        let context = format!("schedule {sch} (seed {seed})");
        converge(&[&a, &b, &disp], s.relay().storage.as_ref(), &context).await;
        ledger.assert_held(s.relay().storage.as_ref(), true, &context);
        for (k, n) in proxy.applied() {
            *totals.entry(k).or_default() += n;
        }
    }
    println!(
        "fault proxy: {schedules} schedules, {failed} of {} syncs failed under faults, connections per fault (name, reset): {totals:?}; 0 lost, 0 doubled",
        18 * schedules
    );
    assert!(failed > 0, "the schedules must actually break some syncs");
}
