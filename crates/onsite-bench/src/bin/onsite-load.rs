//! `onsite-load`: the relay under load (issue 13 §2). For each size: a fresh database prepared
//! with the technicians and their orders, the RELEASE relay as a child process on 127.0.0.1,
//! the run (`onsite_bench::load::run`), a table printed and a JSON result written.
//! `bench/load.sh` runs the three sizes; `bench/chart.mjs` draws the curves.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use onsite_bench::load::{self, Plan};
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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
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
        let dir = tempfile::tempdir()?;
        let db = dir.path().join("relay.sqlite3");
        let started = Instant::now();
        let fleet = tokio::task::spawn_blocking({
            let db = db.clone();
            move || {
                load::prepare(
                    &db,
                    devices,
                    plan.orders_per_device,
                    PASSWORD,
                    onsite_relay::api::now_ms(),
                )
            }
        })
        .await??;
        println!(
            "prepared {devices} technicians with {} orders each in {:.1} s",
            plan.orders_per_device,
            started.elapsed().as_secs_f64()
        );
        let extra: Vec<&str> = args.relay_arg.iter().map(String::as_str).collect();
        let relay = RelayChild::start(&db, &extra).await?;
        let report = load::run(&relay.url, Some(relay.pid()), &fleet, PASSWORD, &plan).await?;
        drop(relay);
        print!("{}", report.table());
        let path = args.out.join(format!("load-{devices}.json"));
        std::fs::write(&path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("write {}", path.display()))?;
        println!("  → {}", path.display());
    }
    Ok(())
}
