//! Device-store benchmark (plain `main`, prints figures; not a timed test).
//!
//! Fills a store with `ONSITE_BENCH_ORDERS` (default 10,000) demo orders, each with a visit, through
//! the real edit path: 40 % completed and signed (signature image 4–8 KB), the rest started and at
//! various progress steps. Then measures:
//! - checklist-answer commit latency p50/p99 (`apply_visit_edit`, target p99 < 5 ms), with
//!   `synchronous=FULL` and `NORMAL`, also without the time the thread waited for a CPU held by
//!   other processes (from `/proc/thread-self/schedstat`), since a shared machine inflates p99;
//! - the Today list query (`Store::today`, target < 30 ms);
//! - bytes per completed order: documents + index rows + signature attachment, photos excluded
//!   (target ≤ 30 KB).
//!
//! Run: `cargo bench -p onsite-store` (set `ONSITE_BENCH_ORDERS` for a smaller run).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;
use onsite_domain::edit::VisitEdit;
use onsite_domain::progress::ProgressKind;
use onsite_domain::reference::TemplateLibrary;
use onsite_domain::{DocId, HOUR};
use onsite_store::{DB_FILE, Durability, Store};
use rusqlite::{Connection, params};

const TECHNICIANS: usize = 20;
const DAYS: u32 = 25;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(name: &str, value: f64, unit: &str, target: f64, lower_is_better: bool) {
    let ratio = value / target;
    let ok = if lower_is_better {
        value <= target
    } else {
        value >= target
    };
    println!(
        "{name:<44} {value:>10.2} {unit:<3} target {target:>7.1} {unit:<3} ratio {ratio:>5.2}  {}",
        if ok { "OK" } else { "MISSED" }
    );
}

/// Time this thread has spent runnable but waiting for a CPU (Linux schedstat; zero elsewhere).
/// Subtracting it from a sample removes the time other processes held the CPU.
fn runqueue_wait() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

struct Plan {
    order_id: String,
    technician: String,
    kind: u32,
}

fn main() {
    let orders: u32 = std::env::var("ONSITE_BENCH_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let per_day = orders.div_ceil(DAYS);
    let techs: Vec<String> = (1..=TECHNICIANS).map(|i| format!("t{i:02}")).collect();
    let tech_refs: Vec<&str> = techs.iter().map(String::as_str).collect();

    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open_in(dir.path()).expect("open store");
    // Filling is not what is measured; commit latency is measured below with each mode.
    store
        .set_durability(Durability::Normal)
        .expect("durability");
    seed_reference(&mut store, &tech_refs);
    let photo = store
        .put_attachment(&image_bytes(u64::MAX, 30_000), "image/jpeg")
        .expect("photo");

    let fill = Instant::now();
    let mut plans = Vec::with_capacity(orders as usize);
    for n in 0..orders {
        let day = DAY + i64::from(n / per_day) * 24 * HOUR;
        let tech = &techs[n as usize % TECHNICIANS];
        let order_id = create_order(&mut store, n, day, tech);
        let kind = n % 5;
        match kind {
            // 40 %: completed and signed.
            0 | 1 => {
                let t = work_to_done(&mut store, &order_id, tech, &photo, day + 9 * HOUR);
                let sig_len = 4_096 + (n as usize * 523) % 4_096;
                sign(
                    &mut store,
                    &order_id,
                    tech,
                    &image_bytes(u64::from(n), sig_len),
                    t + 60_000,
                );
            }
            // 60 %: started, at 0–2 progress steps; their checklists are answered below.
            _ => {
                store.start_visit(&order_id, tech).expect("start");
                for (i, k) in [ProgressKind::Accepted, ProgressKind::Arrived]
                    .into_iter()
                    .take((kind - 2) as usize)
                    .enumerate()
                {
                    store
                        .apply_visit_edit(
                            &order_id,
                            tech,
                            VisitEdit::Progress {
                                id: format!("{order_id}-p{i}"),
                                kind: k,
                            },
                            day + 8 * HOUR + i as i64 * HOUR,
                        )
                        .expect("progress");
                }
            }
        }
        plans.push(Plan {
            order_id,
            technician: tech.clone(),
            kind,
        });
        if (n + 1) % 1_000 == 0 {
            eprintln!("filled {} orders in {:.0?}", n + 1, fill.elapsed());
        }
    }
    let fill_time = fill.elapsed();
    let completed = plans.iter().filter(|p| p.kind < 2).count();

    // Checklist-answer commit latency: answer every item of open visits, one commit per answer.
    let library: TemplateLibrary = store.read(&DocId::Templates).expect("templates");
    let open: Vec<&Plan> = plans.iter().filter(|p| p.kind >= 2).collect();
    let mut latency = Vec::new();
    for (mode, first) in [(Durability::Full, 0), (Durability::Normal, 1)] {
        let visits = open.iter().skip(first).step_by(2).take(150);
        store.set_durability(mode).expect("durability");
        let mut samples = Vec::new();
        for p in visits {
            let visit = store
                .read(&DocId::visit(&p.order_id, &p.technician))
                .expect("visit");
            for (i, edit) in checklist_answers(&visit, &library, &photo)
                .into_iter()
                .filter(|e| matches!(e, VisitEdit::Answer { .. }))
                .enumerate()
            {
                let waited_before = runqueue_wait();
                let t = Instant::now();
                store
                    .apply_visit_edit(&p.order_id, &p.technician, edit, DAY + 12 * HOUR + i as i64)
                    .expect("answer");
                let wall = t.elapsed();
                let waited = runqueue_wait().saturating_sub(waited_before);
                samples.push((wall, wall.saturating_sub(waited)));
            }
        }
        let mut wall: Vec<Duration> = samples.iter().map(|s| s.0).collect();
        let mut own: Vec<Duration> = samples.iter().map(|s| s.1).collect();
        wall.sort();
        own.sort();
        latency.push((mode, wall, own));
    }
    store
        .set_durability(onsite_store::DEFAULT_DURABILITY)
        .expect("durability");

    // Today's list for every technician on a day in the middle of the range.
    let day = DAY + i64::from(DAYS / 2) * 24 * HOUR;
    let mut today_times = Vec::new();
    let mut today_rows = 0;
    for _round in 0..5 {
        for t in &techs {
            let start = Instant::now();
            let rows = store
                .today(t, day, day + 24 * HOUR, day + 10 * HOUR)
                .expect("today");
            today_times.push(start.elapsed());
            today_rows = today_rows.max(rows.len());
        }
    }
    today_times.sort();

    // The other list queries, each run 5 times; worst time reported.
    let mut queries: Vec<(String, usize, Duration)> = Vec::new();
    let mut time_query = |name: &str, f: &mut dyn FnMut() -> usize| {
        let mut worst = Duration::ZERO;
        let mut rows = 0;
        for _ in 0..5 {
            let t = Instant::now();
            rows = f();
            worst = worst.max(t.elapsed());
        }
        queries.push((name.to_owned(), rows, worst));
    };
    time_query("search_customers(\"李娜\")", &mut || {
        store.search_customers("李娜", 50).expect("search").len()
    });
    time_query("search_customers(\"0000003\") (phone)", &mut || {
        store.search_customers("0000003", 50).expect("search").len()
    });
    time_query("orders_by_status(completed)", &mut || {
        store
            .orders_by_status(onsite_domain::status::EffectiveStatus::Completed)
            .expect("by status")
            .len()
    });
    time_query("household_history(hh-1), demo household", &mut || {
        store.household_history("hh-1").expect("history").len()
    });
    time_query("stock_levels(t01)", &mut || {
        store.stock_levels("t01").expect("stock").len()
    });

    store.checkpoint().expect("checkpoint");
    // Bytes per completed order: the order and visit documents, their index rows and the
    // signature image. The shared photo is excluded.
    let conn = Connection::open(dir.path().join(DB_FILE)).expect("raw connection");
    let mut total_bytes: i64 = 0;
    let mut doc_bytes: i64 = 0;
    let mut sig_bytes: i64 = 0;
    for p in plans.iter().filter(|p| p.kind < 2) {
        let visit_key = DocId::visit(&p.order_id, &p.technician).to_string();
        let order_key = DocId::Order(p.order_id.clone()).to_string();
        let docs: i64 = conn
            .query_row(
                "SELECT COALESCE(SUM(length(snapshot)), 0)
                   + (SELECT COALESCE(SUM(length(bytes)), 0) FROM doc_changes
                      WHERE doc_id IN (?1, ?2))
                 FROM docs WHERE doc_id IN (?1, ?2)",
                params![order_key, visit_key],
                |r| r.get(0),
            )
            .expect("doc bytes");
        let index: i64 = conn
            .query_row(
                "SELECT
                   (SELECT COALESCE(SUM(length(order_id) + length(order_no) + length(assignee)
                      + length(customer_name) + length(customer_phone) + length(customer_address)
                      + length(household_id) + length(tier) + length(service_type) + length(problem)
                      + length(dispatch_status) + length(effective_status) + length(conflicts)
                      + 8 * 8), 0) FROM idx_orders WHERE order_id = ?1)
                 + (SELECT COALESCE(SUM(length(order_id) + length(technician_id)
                      + COALESCE(length(stage), 0) + COALESCE(length(record_hash), 0)
                      + length(verification) + length(modified_sections) + 8), 0)
                    FROM idx_visits WHERE order_id = ?1)
                 + (SELECT COALESCE(SUM(length(order_id) + length(technician_id) + length(event_id)
                      + length(kind) + 16), 0) FROM idx_events WHERE order_id = ?1)
                 + (SELECT COALESCE(SUM(length(order_id) + length(technician_id) + length(part_id)
                      + length(part_no) + length(source) + 16), 0)
                    FROM idx_visit_parts WHERE order_id = ?1)",
                params![p.order_id],
                |r| r.get(0),
            )
            .expect("index bytes");
        let visit: onsite_domain::visit::Visit = store
            .read(&DocId::visit(&p.order_id, &p.technician))
            .expect("visit");
        let sig = visit.signature.expect("completed visits are signed");
        let sig_len: i64 = conn
            .query_row(
                "SELECT size FROM attachments WHERE sha256 = ?1",
                params![sig.image_sha256],
                |r| r.get(0),
            )
            .expect("signature attachment");
        doc_bytes += docs;
        sig_bytes += sig_len;
        total_bytes += docs + index + sig_len;
    }
    let per_completed = total_bytes as f64 / completed as f64;
    let (page_count, page_size, freelist): (i64, i64, i64) = conn
        .query_row(
            "SELECT (SELECT page_count FROM pragma_page_count),
                    (SELECT page_size FROM pragma_page_size),
                    (SELECT freelist_count FROM pragma_freelist_count)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("page count");

    println!();
    println!("## onsite-store benchmark");
    println!(
        "filled {orders} orders ({completed} completed and signed, {} open; {TECHNICIANS} technicians, {DAYS} days) in {:.1} s",
        orders as usize - completed,
        fill_time.as_secs_f64()
    );
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "machine: {} cores, load average {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    for (mode, wall, own) in &latency {
        let label = format!("{mode:?}").to_uppercase();
        println!(
            "checklist answers committed with synchronous={label}: {} samples",
            wall.len()
        );
        report(
            &format!("  commit latency p50 ({label})"),
            ms(percentile(wall, 0.50)),
            "ms",
            5.0,
            true,
        );
        report(
            &format!("  commit latency p99 ({label})"),
            ms(percentile(wall, 0.99)),
            "ms",
            5.0,
            true,
        );
        report(
            &format!("  p99 without run-queue wait ({label})"),
            ms(percentile(own, 0.99)),
            "ms",
            5.0,
            true,
        );
    }
    report(
        &format!("today's list p50 ({today_rows} rows max)"),
        ms(percentile(&today_times, 0.50)),
        "ms",
        30.0,
        true,
    );
    report(
        "today's list worst of 100",
        ms(*today_times.last().expect("samples")),
        "ms",
        30.0,
        true,
    );
    for (name, rows, worst) in &queries {
        report(
            &format!("{name}, {rows} rows, worst of 5"),
            ms(*worst),
            "ms",
            30.0,
            true,
        );
    }
    report(
        "bytes per completed order",
        per_completed / 1024.0,
        "KB",
        30.0,
        true,
    );
    println!(
        "  of which documents {:.1} KB, signature image {:.1} KB, index rows {:.1} KB",
        doc_bytes as f64 / completed as f64 / 1024.0,
        sig_bytes as f64 / completed as f64 / 1024.0,
        (total_bytes - doc_bytes - sig_bytes) as f64 / completed as f64 / 1024.0
    );
    println!(
        "database file (all {orders} orders, SQLite b-tree overhead included): {:.1} KB per order",
        ((page_count - freelist) * page_size) as f64 / f64::from(orders) / 1024.0
    );
}
