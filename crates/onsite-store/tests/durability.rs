//! Durability: a child process (`onsite-store-crash-child`) makes edits through the store and
//! prints `ack <id>` after each one returns; the test kills it with SIGKILL at random points,
//! reopens the store and checks that every acknowledged edit is there, that the store opens and
//! passes its integrity check, and that the index rows still agree with the documents.
//!
//! The children work on a fresh set of documents every [`EPOCH`] iterations so each iteration
//! stays short; the end checks every acknowledged edit of every epoch once more.
//! `ONSITE_DURABILITY_ITERATIONS` (default 200) and `ONSITE_DURABILITY_SEED` (default: from the
//! clock, printed) tune a run.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use onsite_domain::DocId;
use onsite_domain::ledger::{self, StockLedger};
use onsite_domain::visit::Visit;
use onsite_store::{DB_FILE, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const TECH: &str = "t1";
/// Iterations that share one set of documents.
const EPOCH: u32 = 25;

fn parse_ack(line: &str) -> String {
    line.trim()
        .strip_prefix("ack ")
        .unwrap_or_else(|| panic!("child printed an unexpected line: {line:?}"))
        .to_owned()
}

/// The documents one epoch's children edit: a ledger and four visits of `TECH`.
struct Epoch {
    ledger_owner: String,
    orders: Vec<String>,
}

fn new_epoch(db: &Path, e: u32) -> Epoch {
    let mut store = Store::open(db, None).expect("open");
    let ledger_owner = format!("stock{e}");
    store
        .create(
            &DocId::Ledger(ledger_owner.clone()),
            &StockLedger::new(&ledger_owner),
        )
        .expect("ledger");
    let orders = (0..4)
        .map(|k| {
            let o = create_order(&mut store, 1_000 + e * 4 + k, DAY, TECH);
            store.start_visit(&o, TECH).expect("start visit");
            o
        })
        .collect();
    Epoch {
        ledger_owner,
        orders,
    }
}

/// Check that every id in `acked` is in the epochs' documents and that the index rows agree.
fn check(store: &Store, epochs: &[Epoch], acked: &BTreeSet<String>, context: &str) {
    let mut present: BTreeSet<String> = BTreeSet::new();
    let mut all_visits: Vec<Visit> = Vec::new();
    for ep in epochs {
        let ledger: StockLedger = store
            .read(&DocId::Ledger(ep.ledger_owner.clone()))
            .expect("ledger");
        assert_eq!(
            store.stock_levels(&ep.ledger_owner).expect("stock levels"),
            ledger::stock_levels(&ledger, []),
            "{context}: ledger index rows must agree with the ledger document"
        );
        present.extend(ledger.entries.iter().map(|e| e.id.clone()));
        for o in &ep.orders {
            let v: Visit = store.read(&DocId::visit(o, TECH)).expect("visit");
            present.extend(v.parts.iter().map(|p| p.id.clone()));
            all_visits.push(v);
        }
    }
    let lost: Vec<&String> = acked.iter().filter(|id| !present.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{context}: acknowledged edits lost after SIGKILL: {lost:?}"
    );
    if epochs.len() > 1 {
        let own: StockLedger = store.read(&DocId::Ledger(TECH.into())).expect("ledger");
        assert_eq!(
            store.stock_levels(TECH).expect("stock levels"),
            ledger::stock_levels(&own, &all_visits),
            "{context}: parts-used index rows must agree with the visits"
        );
    }
}

#[test]
fn acknowledged_edits_survive_sigkill_at_random_points() {
    let iterations: u32 = std::env::var("ONSITE_DURABILITY_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let seed: u64 = std::env::var("ONSITE_DURABILITY_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        // A fixed seed by default so every run kills at the same points; set the variable to
        // explore others.
        .unwrap_or(0x5EED_D00D);
    println!("durability: {iterations} iterations, ONSITE_DURABILITY_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);

    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join(DB_FILE);
    {
        let mut store = Store::open(&db, None).expect("open");
        seed_reference(&mut store, &[TECH]);
    }
    let exe = env!("CARGO_BIN_EXE_onsite-store-crash-child");

    let mut epochs: Vec<Epoch> = Vec::new();
    let mut acked: BTreeSet<String> = BTreeSet::new();
    let mut epoch_acked: BTreeSet<String> = BTreeSet::new();
    let mut killed_while_running = 0u32;
    let started = Instant::now();
    for i in 0..iterations {
        if i % EPOCH == 0 {
            epochs.push(new_epoch(&db, i / EPOCH));
            epoch_acked.clear();
        }
        let ep = epochs.last().expect("an epoch");
        let wait_for_acks = rng.random_range(0..=6u32);
        let extra_delay = Duration::from_micros(rng.random_range(0..4_000));
        let mut child = Command::new(exe)
            .args([
                db.to_str().expect("utf-8 temp path"),
                &format!("i{i}"),
                "40",
                &ep.ledger_owner,
                TECH,
                &ep.orders.join(","),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the crash child");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        for _ in 0..wait_for_acks {
            line.clear();
            if out.read_line(&mut line).expect("read child stdout") == 0 {
                break;
            }
            epoch_acked.insert(parse_ack(&line));
        }
        std::thread::sleep(extra_delay);
        // Child::kill sends SIGKILL on Unix: no destructor, no flush, no WAL checkpoint runs.
        child.kill().expect("SIGKILL the child");
        for rest in out.lines() {
            epoch_acked.insert(parse_ack(&rest.expect("read child stdout")));
        }
        let status = child.wait().expect("reap child");
        if status.code().is_some() && !status.success() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .expect("stderr")
                .read_to_string(&mut err)
                .ok();
            panic!("iteration {i}: the child failed on its own ({status}): {err}");
        }
        if status.code().is_none() {
            killed_while_running += 1;
        }

        let store = Store::open(&db, None)
            .unwrap_or_else(|e| panic!("iteration {i}: the store must open after SIGKILL: {e}"));
        store
            .integrity_check()
            .unwrap_or_else(|e| panic!("iteration {i}: integrity check failed: {e}"));
        check(
            &store,
            std::slice::from_ref(ep),
            &epoch_acked,
            &format!("iteration {i} (seed {seed})"),
        );
        acked.extend(epoch_acked.iter().cloned());
    }
    let store = Store::open(&db, None).expect("final open");
    check(
        &store,
        &epochs,
        &acked,
        &format!("final check (seed {seed})"),
    );
    println!(
        "durability: {} acknowledged edits checked over {iterations} kills ({killed_while_running} while running) in {:.1?}",
        acked.len(),
        started.elapsed()
    );
    assert!(
        acked.len() as u32 > iterations,
        "the children must have acknowledged edits to check (got {})",
        acked.len()
    );
    assert!(
        killed_while_running * 2 > iterations,
        "most kills must hit a running child ({killed_while_running} of {iterations})"
    );
}
