//! `onsite-device-scale` (issue 13 §3): a fresh device's first sync of `--orders` orders from the
//! release relay, then app start to the Today list in fresh processes, cold and warm.
//!
//! Run: `cargo build --release --bin onsite-relay --bin onsite-device-scale &&
//! target/release/onsite-device-scale --orders 10000`.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use onsite_bench::device_scale::{self, FirstSync, TodayFigures};
use onsite_bench::proc_stats::{ProcStats, mib};
use onsite_bench::relay_child::RelayChild;

/// The app's allocator (src-tauri/src/main.rs): the device here stands in for it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    command: Option<Cmd>,
    /// Orders assigned to the technician on the relay.
    #[arg(long, default_value_t = 10_000)]
    orders: u32,
    /// The relay's `--max-docs-per-response` (its default when absent).
    #[arg(long)]
    page: Option<u32>,
    /// App starts to time after the first (cold) one.
    #[arg(long, default_value_t = 5)]
    warm_runs: u32,
    /// Keep the relay database and the device folder here (default: a temp dir).
    #[arg(long)]
    dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Open the app on a device folder, ask for the Today list, print the figures (one line) and
    /// exit: what the main run starts as a fresh process.
    Today { device_dir: PathBuf },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(Cmd::Today { device_dir }) = &args.command {
        let f = device_scale::open_and_today(device_dir)?;
        println!(
            "{} {} {} {} {}",
            f.open_to_today.as_micros(),
            f.today_call.as_micros(),
            f.orders,
            f.rss,
            f.peak_rss
        );
        return Ok(());
    }
    let temp = tempfile::tempdir()?;
    let dir = args.dir.clone().unwrap_or_else(|| temp.path().to_owned());
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("relay.sqlite3");
    let device_dir = dir.join("device");
    let now = chrono::Utc::now().timestamp_millis();
    if db.exists() {
        println!("reusing the relay database {}", db.display());
    } else {
        let t = Instant::now();
        let changes = device_scale::prepare_relay(&db, args.orders, now)?;
        println!(
            "relay prepared: {} orders for {} + the demo company, {changes} changes, {:.1} s",
            args.orders,
            device_scale::TECHNICIAN,
            t.elapsed().as_secs_f64()
        );
    }
    if device_dir.exists() {
        std::fs::remove_dir_all(&device_dir)?;
    }
    let page = args.page.map(|p| p.to_string());
    let extra: Vec<&str> = match &page {
        Some(p) => vec!["--max-docs-per-response", p],
        None => vec![],
    };
    let relay = RelayChild::start(&db, &extra).await?;
    let sync = device_scale::first_sync(&relay.url, &device_dir).await?;
    device_scale::check_first_sync(&sync, args.orders)?;
    print_sync(&sync, relay.stats());
    drop(relay);

    let cold = today_process(&device_dir)?;
    let mut warm = Vec::new();
    for _ in 0..args.warm_runs {
        warm.push(today_process(&device_dir)?);
    }
    print_today("cold (first start after the sync)", &cold);
    warm.sort_by_key(|(wall, _)| *wall);
    if let Some(median) = warm.get(warm.len() / 2) {
        print_today(&format!("warm (median of {})", warm.len()), median);
    }
    Ok(())
}

/// Start this binary's `today` subcommand as a fresh process; wall time from spawn to exit.
fn today_process(device_dir: &std::path::Path) -> anyhow::Result<(Duration, TodayFigures)> {
    let start = Instant::now();
    let out = Command::new(std::env::current_exe()?)
        .arg("today")
        .arg(device_dir)
        .output()?;
    let wall = start.elapsed();
    if !out.status.success() {
        bail!("today: {}", String::from_utf8_lossy(&out.stderr));
    }
    let line = String::from_utf8(out.stdout)?;
    let f: Vec<u64> = line
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .with_context(|| format!("today printed {line:?}"))?;
    let [open, call, orders, rss, peak] = f[..] else {
        bail!("today printed {line:?}");
    };
    Ok((
        wall,
        TodayFigures {
            open_to_today: Duration::from_micros(open),
            today_call: Duration::from_micros(call),
            orders: orders as usize,
            rss,
            peak_rss: peak,
        },
    ))
}

fn print_sync(s: &FirstSync, relay: ProcStats) {
    let wire = s.wire_up + s.wire_down;
    println!("first sync of a fresh device:");
    println!(
        "  time {:.2} s, {} round trips, {} documents",
        s.time.as_secs_f64(),
        s.round_trips,
        s.documents
    );
    println!(
        "  wire {} B (up {} B, down {} B); documents saved {} B, gzip {} B; wire / gzip {:.2}×",
        wire,
        s.wire_up,
        s.wire_down,
        s.saved_bytes,
        s.saved_gzip_bytes,
        wire as f64 / s.saved_gzip_bytes.max(1) as f64
    );
    let shown: Vec<String> = s
        .progress
        .iter()
        .map(|(n, total)| format!("{n}/{total}"))
        .collect();
    println!(
        "  progress ({} reports): {}",
        shown.len(),
        abbreviate(&shown)
    );
    let ms = |d: &Duration| format!("{:.0}", d.as_secs_f64() * 1000.0);
    let rounds: Vec<String> = s.rounds.iter().map(ms).collect();
    println!("  round times (ms): {}", abbreviate(&rounds));
    println!(
        "  CPU: device (bench process) {:.2} s, relay {:.2} s",
        s.device_cpu.as_secs_f64(),
        relay.cpu_secs()
    );
    println!(
        "  bench process RSS after it {:.0} MiB; relay peak RSS {:.0} MiB",
        mib(s.rss_after),
        mib(relay.peak_rss)
    );
}

fn abbreviate(items: &[String]) -> String {
    if items.len() <= 8 {
        return items.join(", ");
    }
    format!(
        "{}, …, {}",
        items[..4].join(", "),
        items[items.len() - 3..].join(", ")
    )
}

fn print_today(label: &str, (wall, f): &(Duration, TodayFigures)) {
    println!(
        "app start to Today, {label}: process {:.0} ms (target < 1000 ms, {:.2}× of it); App::open + today {:.0} ms, today alone {:.0} ms; {} orders on Today; RSS {:.0} MiB, peak {:.0} MiB (target < 300 MiB)",
        wall.as_secs_f64() * 1000.0,
        wall.as_secs_f64(),
        f.open_to_today.as_secs_f64() * 1000.0,
        f.today_call.as_secs_f64() * 1000.0,
        f.orders,
        mib(f.rss),
        mib(f.peak_rss)
    );
}
