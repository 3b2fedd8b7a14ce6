//! `onsite-compare`: side by side with automerge-repo (issue 13 §1; `bench/compare.sh`).
//!
//! `generate` writes the workload file; `run` starts the relay (release build unless
//! `$ONSITE_RELAY_BIN` names another) and the reference sync server, each behind a
//! byte-counting proxy on 127.0.0.1, runs the five scenarios on both and prints the table.
//! Exits non-zero when either side did not converge.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use onsite_bench::compare::workload::{self, Sizes};
use onsite_bench::compare::{SideRun, onsite, reference, table};
use onsite_bench::relay_child::RelayChild;
use onsite_bench::wire_count::CountingProxy;

/// The app's allocator (src-tauri/src/main.rs): the devices here stand in for it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Write the workload file (deterministic from the seed).
    Generate {
        #[arg(long, default_value_t = 1_000)]
        orders: usize,
        #[arg(long, default_value_t = 10_000)]
        scale_orders: usize,
        #[arg(long, default_value_t = 50)]
        edits: usize,
        #[arg(long, default_value_t = 13)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Run both sides on the workload and print the table.
    Run {
        #[arg(long)]
        workload: PathBuf,
        /// Only the Onsite half.
        #[arg(long)]
        onsite_only: bool,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Cmd::Generate {
            orders,
            scale_orders,
            edits,
            seed,
            out,
        } => {
            let w = workload::generate(
                seed,
                Sizes {
                    orders,
                    scale_orders,
                    edits,
                },
            );
            std::fs::write(&out, serde_json::to_vec(&w)?)
                .with_context(|| format!("write {}", out.display()))?;
            println!(
                "workload {} ({} orders, seed {seed})",
                out.display(),
                w.orders.len()
            );
        }
        Cmd::Run {
            workload,
            onsite_only,
        } => run(&workload, onsite_only).await?,
    }
    Ok(())
}

async fn run(path: &std::path::Path, onsite_only: bool) -> anyhow::Result<()> {
    let w: workload::Workload =
        serde_json::from_slice(&std::fs::read(path)?).context("read the workload")?;
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("relay.sqlite3");
    onsite::prepare_database(&db, &w.completion.technician).map_err(anyhow::Error::msg)?;
    let relay = RelayChild::start(&db, &[]).await?;
    let target = relay.url.trim_start_matches("http://").parse()?;
    let proxy = CountingProxy::start(target).await?;
    println!(
        "onsite: relay {} (pid {}), proxy {}",
        relay.url,
        relay.pid(),
        proxy.url()
    );
    let ours = onsite::run(&w, &|| relay.stats(), &proxy)
        .await
        .map_err(anyhow::Error::msg)?;
    drop(proxy);
    drop(relay);
    println!("Onsite half done:\n{}", table(&ours, &SideRun::default()));
    let theirs = if onsite_only {
        SideRun::default()
    } else {
        let server = reference::Server::start()
            .await
            .map_err(anyhow::Error::msg)?;
        println!("reference: sync server 127.0.0.1:{}", server.addr.port());
        reference::run(path, &server)
            .await
            .map_err(anyhow::Error::msg)?
    };
    println!("{}", table(&ours, &theirs));
    for (name, side) in [("Onsite", &ours), ("reference", &theirs)] {
        if !(side.converged() || (onsite_only && name == "reference")) {
            bail!("{name} did not converge (see the table)");
        }
    }
    Ok(())
}
