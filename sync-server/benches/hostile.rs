//! What a hostile sync message costs the relay now that it counts operations before applying
//! (issue 12 §2): one message inserting a million characters into a visit field, against an
//! ordinary edit of the same visit, over the real SQLite storage in process. Prints the medians,
//! their ratio and the process's peak memory. Then: how long a dispatcher's sync takes while
//! another device's large (allowed-size) message is being merged — the merge runs on a reader
//! of its own, so the dispatcher does not wait for it.
//! Run: `cargo bench -p onsite-relay --bench hostile`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{ObjType, ROOT};
use onsite_relay::{RelayStorage, SqliteStorage};
use onsite_sync::relay::Limits;
use onsite_testkit::sim::{Network, SimDevice, order_id};
use onsite_wire::{Code, Role};

const SAMPLES: usize = 5;

fn median_ms(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Peak resident memory of this process so far, MiB (Linux).
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let storage = SqliteStorage::open(&dir.path().join("relay.sqlite3")).expect("database");
    let mut net = Network::new(storage);
    let mut disp = SimDevice::dispatcher_with_orders(1);
    net.sync_until_quiet(&mut disp);
    let mut tech = SimDevice::new("tech.a", Role::Technician);
    net.sync_until_quiet(&mut tech);
    let visit = tech.start_visit(&order_id(0));
    net.sync_until_quiet(&mut tech);
    let baseline_peak = peak_mib();

    let mut ordinary = Vec::new();
    for i in 0..SAMPLES {
        tech.edit_visit(&visit, |v| {
            v.diagnosis = format!("compressor noise, check {i}")
        });
        let req = tech.request();
        let t = Instant::now();
        let resp = net.serve(&tech.caller, &req);
        ordinary.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(resp.rejected.is_empty(), "an ordinary edit is stored");
        tech.apply(&resp);
    }

    let mut hostile = Vec::new();
    for _ in 0..SAMPLES {
        let mut attacker = tech.docs[&visit].clone();
        let text = attacker
            .0
            .put_object(ROOT, "work_performed", ObjType::Text)
            .expect("text");
        attacker
            .0
            .splice_text(&text, 0, 0, &"a".repeat(1_000_000))
            .expect("splice");
        attacker.0.commit();
        let saved = std::mem::replace(tech.docs.get_mut(&visit).expect("held"), attacker);
        let req = tech.request();
        let bytes: usize = req.docs.iter().map(|m| m.message.len()).sum();
        let t = Instant::now();
        let resp = net.serve(&tech.caller, &req);
        hostile.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(
            resp.rejected.first().map(|r| r.code),
            Some(Code::DocumentTooLarge),
            "refused by its operation count"
        );
        println!("  hostile message: {bytes} bytes of sync message");
        *tech.docs.get_mut(&visit).expect("held") = saved;
    }
    let (o, h) = (median_ms(ordinary), median_ms(hostile));
    println!("relay handling of one sync request, median of {SAMPLES}:");
    println!("  ordinary visit edit                  {o:9.2} ms");
    println!("  1,000,000-character insert, refused  {h:9.2} ms");
    println!("  ratio hostile / ordinary             {:9.2}", h / o);
    println!(
        "  peak memory: {baseline_peak:.0} MiB before, {:.0} MiB after (the attacker's own copy included)",
        peak_mib()
    );
    let storage = Arc::new(net.relay);
    waiting_behind_a_merge(&storage, &mut disp, &mut tech, &visit);
}

/// One sync of `dev` straight on the storage, timed.
fn timed_sync(storage: &SqliteStorage, dev: &mut SimDevice) -> f64 {
    let req = dev.request();
    let t = Instant::now();
    let handled = storage
        .sync(&dev.caller, &req, &Limits::default(), 0)
        .expect("handled");
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    dev.apply(&handled.response);
    ms
}

/// The dispatcher's sync alone, and while tech.a's 80,000-character text is merged.
fn waiting_behind_a_merge(
    storage: &Arc<SqliteStorage>,
    disp: &mut SimDevice,
    tech: &mut SimDevice,
    visit: &onsite_domain::DocId,
) {
    let alone = median_ms(
        (0..SAMPLES)
            .map(|i| {
                disp.edit_order(&order_id(0), |o| o.problem = format!("call first ({i})"));
                timed_sync(storage, disp)
            })
            .collect(),
    );
    let mut during = Vec::new();
    let mut merges = Vec::new();
    for i in 0..SAMPLES {
        let saved = tech.docs[visit].clone();
        let (d, _) = tech.docs.get_mut(visit).expect("held");
        let text = d
            .put_object(ROOT, "diagnosis", ObjType::Text)
            .expect("text");
        d.splice_text(&text, 0, 0, &"b".repeat(80_000))
            .expect("splice");
        d.commit();
        let req = tech.request();
        let caller = tech.caller.clone();
        let s = Arc::clone(storage);
        let heavy = std::thread::spawn(move || {
            let t = Instant::now();
            let r = s
                .sync(&caller, &req, &Limits::default(), 0)
                .expect("handled");
            (t.elapsed().as_secs_f64() * 1000.0, r.response)
        });
        std::thread::sleep(Duration::from_millis(20));
        disp.edit_order(&order_id(0), |o| {
            o.problem = format!("call first, again ({i})")
        });
        during.push(timed_sync(storage, disp));
        let (ms, resp) = heavy.join().expect("the heavy sync");
        merges.push(ms);
        assert!(
            !resp.rejected.is_empty(),
            "merged, then refused by the field's size"
        );
        *tech.docs.get_mut(visit).expect("held") = saved;
    }
    let (d, m) = (median_ms(during), median_ms(merges));
    println!("a dispatcher's sync, median of {SAMPLES}:");
    println!("  alone                                {alone:9.2} ms");
    println!("  while an 80,000-character text merges {d:8.2} ms (the merge itself: {m:.2} ms)");
    println!("  ratio during / alone                 {:9.2}", d / alone);
}
