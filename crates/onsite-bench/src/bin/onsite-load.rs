//! `onsite-load`: the relay under load (issue 13 §2). For each size: a fresh database prepared
//! with the technicians and their orders (a SQLite file, or with `--database postgres://…` a new
//! database on that cluster, dropped after the run), the RELEASE relay as `--instances` child
//! processes on 127.0.0.1 on that database, the run (`onsite_bench::load::run`), a table printed
//! and a JSON result written. `bench/load.sh` runs the three sizes; `bench/chart.mjs` draws the
//! curves of the SQLite runs.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use onsite_bench::load::{self, Plan, RunDatabase, Target};
use onsite_bench::proc_stats;
use onsite_bench::relay_child::RelayChild;

/// The password every simulated account has (hashed once).
const PASSWORD: &str = "load-password-1";

#[derive(Parser)]
#[command(about = "Drive the release onsite-relay with N simulated devices (127.0.0.1 only)")]
struct Args {
    /// Device counts to run, one fresh relay each (e.g. 100,1000,5000).
    #[arg(long, value_delimiter = ',', default_value = "100")]
    devices: Vec<u32>,
    /// Orders per device = changed documents per burst.
    #[arg(long, default_value_t = 10)]
    orders: u32,
    /// Each device makes a burst this often, milliseconds (1,000 devices × 10 / 4 s = 2,500/s).
    #[arg(long, default_value_t = 4000)]
    burst_every_ms: u64,
    #[arg(long, default_value_t = 10)]
    warm_up_secs: u64,
    #[arg(long, default_value_t = 60)]
    measure_secs: u64,
    /// Sign-ins and first syncs at once.
    #[arg(long, default_value_t = 8)]
    setup_concurrency: usize,
    #[arg(long, default_value_t = 30)]
    request_timeout_secs: u64,
    /// Where `load-<devices>.json` go.
    #[arg(long, default_value = "target/load")]
    out: PathBuf,
    /// Extra arguments for `onsite-relay serve` (e.g. `--max-concurrent-requests=2048`).
    #[arg(long, allow_hyphen_values = true)]
    relay_arg: Vec<String>,
    /// A PostgreSQL cluster (`postgres://user@host:port/db`): each size gets a new database on
    /// it (created through `db`, dropped after the run). Without it: a fresh SQLite file.
    #[arg(long)]
    database: Option<PathBuf>,
    /// Relay instances on the one database (more than 1 needs `--database postgres://…`);
    /// device i syncs through instance i % N and keeps its push stream on instance (i + 1) % N.
    #[arg(long, default_value_t = 1)]
    instances: usize,
    /// The cluster's data directory, to report PostgreSQL's CPU (its postmaster and
    /// backends); defaults to `$ONSITE_PG_DIR/data` (`scripts/pg.sh`) when set.
    #[arg(long)]
    postgres_data: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.instances == 0 || (args.instances > 1 && args.database.is_none()) {
        anyhow::bail!(
            "--instances takes 1, or more on a PostgreSQL --database (one SQLite file has one relay)"
        );
    }
    std::fs::create_dir_all(&args.out).with_context(|| format!("create {}", args.out.display()))?;
    for &devices in &args.devices {
        let plan = Plan {
            devices,
            orders_per_device: args.orders,
            burst_every: Duration::from_millis(args.burst_every_ms),
            warm_up: Duration::from_secs(args.warm_up_secs),
            measure: Duration::from_secs(args.measure_secs),
            setup_concurrency: args.setup_concurrency,
            request_timeout: Duration::from_secs(args.request_timeout_secs),
        };
        run_size(&args, &plan).await?;
    }
    Ok(())
}

/// One size: prepare a fresh database, start the instances, run, print and write the report.
async fn run_size(args: &Args, plan: &Plan) -> anyhow::Result<()> {
    let devices = plan.devices;
    let db = RunDatabase::fresh(args.database.as_deref(), devices)?;
    let started = Instant::now();
    let fleet = tokio::task::spawn_blocking({
        let (setting, orders) = (db.setting.clone(), plan.orders_per_device);
        move || {
            load::prepare(
                &setting,
                devices,
                orders,
                PASSWORD,
                onsite_relay::api::now_ms(),
            )
        }
    })
    .await??;
    println!(
        "prepared {devices} technicians with {} orders each on {} in {:.1} s",
        plan.orders_per_device,
        db.backend(),
        started.elapsed().as_secs_f64()
    );
    let extra: Vec<&str> = args.relay_arg.iter().map(String::as_str).collect();
    let mut relays = Vec::with_capacity(args.instances);
    for _ in 0..args.instances {
        relays.push(RelayChild::start(&db.setting, &extra).await?);
    }
    let target = Target {
        urls: relays.iter().map(|r| r.url.clone()).collect(),
        pids: relays.iter().map(RelayChild::pid).collect(),
        postgres_pid: postgres_pid(args, &db),
        backend: db.backend().to_owned(),
    };
    let report = load::run(&target, &fleet, PASSWORD, plan).await?;
    drop(relays);
    drop(db);
    print!("{}", report.table());
    let name = match (report.backend.as_str(), args.instances) {
        ("sqlite", 1) => format!("load-{devices}.json"),
        (backend, n) => format!("load-{devices}-{backend}-x{n}.json"),
    };
    let path = args.out.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(&report)?)
        .with_context(|| format!("write {}", path.display()))?;
    println!("  → {}", path.display());
    Ok(())
}

/// The postmaster's pid when the run is on PostgreSQL and its data directory is known.
fn postgres_pid(args: &Args, db: &RunDatabase) -> Option<u32> {
    if db.backend() != "postgres" {
        return None;
    }
    let data = args
        .postgres_data
        .clone()
        .or_else(|| std::env::var_os("ONSITE_PG_DIR").map(|d| Path::new(&d).join("data")))?;
    let pid = proc_stats::postmaster_pid(&data);
    if pid.is_none() {
        eprintln!(
            "no postmaster.pid in {}: PostgreSQL's CPU is not reported",
            data.display()
        );
    }
    pid
}
