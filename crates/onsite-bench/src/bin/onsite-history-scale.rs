//! `onsite-history-scale` (issue 14, partial replicas): generate a relay database for one centre
//! with `--jobs` historic jobs (`prepare`), then measure a fresh dispatcher device's first sync
//! from the release relay on it with a history window or the whole history, a history search
//! and one old job fetched on demand (`measure`, one sync a process so peak memory is its own;
//! the relay's reminders task off); time the relay's maintenance-reminders pass on it
//! (`reminders`).
//!
//! Run: `cargo build --release --bin onsite-relay --bin onsite-history-scale &&
//! target/release/onsite-history-scale prepare --db /tmp/h1m.sqlite3 --jobs 1000000 &&
//! target/release/onsite-history-scale measure --db /tmp/h1m.sqlite3 --window 90`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use onsite_bench::history_gen::{self, HistorySpec};
use onsite_bench::history_scale;
use onsite_bench::proc_stats::{ProcStats, mib};
use onsite_bench::relay_child::RelayChild;
use onsite_domain::DocId;

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create the relay database `--db` (must not exist) with the generated history.
    Prepare {
        #[arg(long)]
        db: PathBuf,
        /// Historic jobs (orders), spread over `--years` before now.
        #[arg(long, default_value_t = 1_000_000)]
        jobs: u32,
        /// Households (default: a tenth of the jobs).
        #[arg(long)]
        households: Option<u32>,
        #[arg(long, default_value_t = 5)]
        years: u32,
    },
    /// Start the release relay on `--db` and measure a fresh dispatcher device's first sync.
    Measure {
        #[arg(long)]
        db: PathBuf,
        /// History window in days (`0`: the whole history).
        #[arg(long, default_value_t = 90)]
        window: u32,
        /// Jobs the database was prepared with (to name a household and an old job).
        #[arg(long, default_value_t = 1_000_000)]
        jobs: u32,
        /// Keep the device folder here (default: a temp dir).
        #[arg(long)]
        device_dir: Option<PathBuf>,
        /// Stop the first sync after this many seconds (checked every 64 rounds) and report
        /// what it reached, marked partial.
        #[arg(long)]
        max_secs: Option<u64>,
    },
    /// Open the relay database `--db` and run the relay's maintenance-reminders pass
    /// (`onsite_relay::reminders::enqueue_due`) twice, as the relay's task does on its first
    /// tick and on the next: time, households looked at, reminders enqueued, memory. It writes
    /// outbox rows and the reminder checks; `measure` turns the relay's own task off.
    Reminders {
        #[arg(long)]
        db: PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Args::parse().command {
        Cmd::Prepare {
            db,
            jobs,
            households,
            years,
        } => prepare(db, jobs, households, years),
        Cmd::Measure {
            db,
            window,
            jobs,
            device_dir,
            max_secs,
        } => {
            measure(
                db,
                window,
                jobs,
                device_dir,
                max_secs.map(Duration::from_secs),
            )
            .await
        }
        Cmd::Reminders { db } => reminders(db),
    }
}

/// Two reminders passes on `db`, each at the clock's time when it starts.
fn reminders(db: PathBuf) -> anyhow::Result<()> {
    let storage = onsite_relay::storage::open(&db)?;
    for name in ["first pass", "next pass"] {
        // Reset the peak (VmHWM) to the current RSS so each pass's peak is its own (Linux ≥ 4.0).
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let before = ProcStats::read(std::process::id()).unwrap_or_default();
        let now = chrono::Utc::now().timestamp_millis();
        let t = Instant::now();
        let pass = onsite_relay::reminders::enqueue_due(storage.as_ref(), now)?;
        let time = t.elapsed();
        let after = ProcStats::read(std::process::id()).unwrap_or_default();
        println!(
            "{name}: {:.1} s, {} households checked, {} reminders enqueued, CPU {:.1} s, RSS {:.0} MiB before, {:.0} MiB after, peak {:.0} MiB{}",
            time.as_secs_f64(),
            pass.checked,
            pass.enqueued.len(),
            after.cpu.saturating_sub(before.cpu).as_secs_f64(),
            mib(before.rss),
            mib(after.rss),
            mib(after.peak_rss),
            if reset {
                ""
            } else {
                " (peak of the process: clear_refs refused)"
            }
        );
    }
    Ok(())
}

fn prepare(db: PathBuf, jobs: u32, households: Option<u32>, years: u32) -> anyhow::Result<()> {
    if db.exists() {
        bail!("{} exists: prepare writes a new database", db.display());
    }
    let mut spec = HistorySpec::of(jobs);
    spec.households = households.unwrap_or(spec.households);
    spec.years = years;
    let now = chrono::Utc::now().timestamp_millis();
    let t = Instant::now();
    let changes = history_gen::prepare_history(&db, &spec, now, |n| {
        if n % 100_000 == 0 {
            eprintln!("  {n} jobs written, {:.0} s", t.elapsed().as_secs_f64());
        }
    })?;
    let open = (0..jobs).filter(|&n| spec.open(n, now)).count();
    println!(
        "prepared {}: {jobs} jobs over {years} years ({open} open), {} households, {changes} changes, {:.1} s, {:.0} MiB",
        db.display(),
        spec.households,
        t.elapsed().as_secs_f64(),
        std::fs::metadata(&db)?.len() as f64 / 1_048_576.0
    );
    Ok(())
}

async fn measure(
    db: PathBuf,
    window: u32,
    jobs: u32,
    device_dir: Option<PathBuf>,
    max_secs: Option<Duration>,
) -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let device_dir = device_dir.unwrap_or_else(|| temp.path().join("device"));
    if device_dir.exists() {
        std::fs::remove_dir_all(&device_dir)?;
    }
    // The relay's reminders task off: its first tick (at start) would look at every household
    // the generation marked, beside the sync being measured (`reminders` measures it alone).
    let config = temp.path().join("relay.toml");
    std::fs::write(&config, "[outbox]\nreminders_every_secs = 0\n")?;
    let config = config.to_str().context("temp path")?;
    let relay = RelayChild::start(&db, &["--config", config]).await?;
    let relay_before = relay.stats();
    let (sync, device) =
        history_scale::dispatcher_first_sync_within(&relay.url, &device_dir, window, max_secs)
            .await?;
    let relay_after = relay.stats();
    let store_bytes = history_scale::store_bytes(&device.store.lock().expect("store"));
    println!("window {window} days (0: whole history), jobs on the relay {jobs}");
    println!(
        "first sync{}: {:.1} s, {} round trips, {} documents",
        if sync.complete {
            ""
        } else {
            " (PARTIAL: stopped at --max-secs)"
        },
        sync.time.as_secs_f64(),
        sync.round_trips,
        sync.documents
    );
    if sync.complete {
        let held = history_scale::held(&device.store.lock().expect("store"))?;
        println!(
            "  held: {} generated orders, {} visits, {} households",
            held.orders.len(),
            held.visits.len(),
            held.households
        );
    }
    if let Some(&(n, total)) = sync.progress.last() {
        println!("  progress: {n} of {total}");
    }
    println!("  wire: up {} B, down {} B", sync.wire_up, sync.wire_down);
    if sync.complete {
        println!(
            "  documents saved {} B, gzip {} B",
            sync.saved_bytes, sync.saved_gzip_bytes
        );
    }
    println!(
        "  device store on disk (file + WAL): {:.1} MiB",
        mib(store_bytes)
    );
    println!(
        "  device CPU {:.1} s, RSS after {:.0} MiB, peak {:.0} MiB",
        sync.device_cpu.as_secs_f64(),
        mib(sync.rss_after),
        mib(ProcStats::read(std::process::id())
            .unwrap_or_default()
            .peak_rss)
    );
    println!(
        "  relay CPU {:.1} s, peak RSS {:.0} MiB",
        relay_after
            .cpu
            .saturating_sub(relay_before.cpu)
            .as_secs_f64(),
        mib(relay_after.peak_rss)
    );
    search_and_fetch(&device, jobs).await?;
    Ok(())
}

async fn search_and_fetch(
    device: &onsite_bench::device_scale::SyncedDevice,
    jobs: u32,
) -> anyhow::Result<()> {
    let spec = HistorySpec::of(jobs);
    let phone = history_gen::household_phone(history_gen::household_of(&spec, 3));
    let mut times: Vec<Duration> = Vec::new();
    let mut found = None;
    for _ in 0..5 {
        let (t, answer) = history_scale::search(device, &phone).await?;
        times.push(t);
        found = Some(answer);
    }
    let first = times[0];
    times.sort();
    let found = found.context("searched")?;
    println!(
        "history search q={phone}: {} jobs, {:.1} ms median of 5 ({:.1} ms first)",
        found.jobs.len(),
        times[2].as_secs_f64() * 1e3,
        first.as_secs_f64() * 1e3
    );
    let old = history_gen::order_id(3);
    let job = found
        .jobs
        .iter()
        .find(|j| j.order_id == old)
        .with_context(|| format!("the search did not find {old}"))?;
    let had = device
        .store
        .lock()
        .expect("store")
        .list_doc_ids()?
        .contains(&DocId::Order(old.clone()));
    let (t, rounds) = history_scale::fetch(device, &job.docs).await?;
    println!(
        "fetch {old} on demand ({} documents, held before: {had}): {:.1} ms, {rounds} round trips",
        job.docs.len(),
        t.as_secs_f64() * 1e3
    );
    Ok(())
}
