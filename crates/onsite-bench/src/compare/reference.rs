//! The reference half: `@automerge/automerge-repo-sync-server` (started by
//! `bench/reference/server.mjs`, which binds it to 127.0.0.1) behind a [`CountingProxy`], and the
//! Node client `bench/reference/client.mjs` running the same scenarios on the same workload file.
//! The client says on stdout when a scenario starts and ends; this side snapshots the proxy's
//! byte counts and the server's `/proc` figures at those moments, then reads the client's check.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

use super::{Check, Figures, Scenario, SideRun};
use crate::proc_stats::ProcStats;
use crate::wire_count::CountingProxy;

/// `bench/reference` of this workspace (`npm ci` installs it).
pub fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/reference")
}

/// What the client prints, one JSON object a line.
#[derive(Debug, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Event {
    Start,
    /// `wall_ms`: a window that ended by a stall (no progress for a while) reports when its
    /// last progress was, measured by the client.
    End {
        scenario: Scenario,
        wall_ms: Option<f64>,
    },
    Check {
        scenario: Scenario,
        check: Check,
    },
    Done,
}

/// The sync server as a child process on a fresh 127.0.0.1 port; killed when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    _data: tempfile::TempDir,
}

impl Server {
    pub async fn start() -> Result<Server, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("pick a port: {e}"))?
            .port();
        let data = tempfile::tempdir().map_err(|e| e.to_string())?;
        let child = Command::new("node")
            .arg(reference_dir().join("server.mjs"))
            .env("PORT", port.to_string())
            .env("DATA_DIR", data.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("start node: {e}"))?;
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            if Instant::now() > deadline {
                return Err("the reference sync server did not listen within 30 s (did `npm ci` run in bench/reference?)".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(Server {
            child,
            addr,
            _data: data,
        })
    }

    pub fn stats(&self) -> ProcStats {
        self.child
            .id()
            .and_then(ProcStats::read)
            .unwrap_or_default()
    }
}

/// Run the client on `workload` against `server` through a fresh counting proxy.
pub async fn run(workload: &Path, server: &Server) -> Result<SideRun, String> {
    let proxy = CountingProxy::start(server.addr)
        .await
        .map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut client = Command::new("node")
        .arg(reference_dir().join("client.mjs"))
        .arg(workload)
        .arg(format!("ws://{}", proxy.addr))
        .arg(dir.path())
        .env("COMPARE_COLD_RUNS", super::COLD_RUNS.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("start the client: {e}"))?;
    let mut stdin = client.stdin.take().expect("piped");
    let mut lines = BufReader::new(client.stdout.take().expect("piped")).lines();
    let mut out = SideRun::default();
    let mut at_start = (proxy.bytes(), server.stats(), Instant::now());
    let mut measured: Vec<(Scenario, Figures)> = Vec::new();
    while let Some(line) = lines.next_line().await.map_err(|e| e.to_string())? {
        let Ok(event) = serde_json::from_str::<Event>(&line) else {
            eprintln!("reference client: {line}");
            continue;
        };
        let ack = matches!(event, Event::Start | Event::End { .. });
        match event {
            Event::Start => at_start = (proxy.bytes(), server.stats(), Instant::now()),
            Event::End { scenario, wall_ms } => {
                let wall = at_start.2.elapsed();
                let (b, s) = (proxy.bytes().since(at_start.0), server.stats());
                let figures = Figures {
                    wall_ms: wall_ms.unwrap_or(wall.as_secs_f64() * 1000.0),
                    up: b.up,
                    down: b.down,
                    round_trips: None,
                    peak_rss: s.peak_rss,
                    cpu_s: s.cpu.saturating_sub(at_start.1.cpu).as_secs_f64(),
                };
                measured.push((scenario, figures));
            }
            Event::Check { scenario, check } => {
                // The check follows its run's window: the last one measured of the scenario.
                let Some(&(_, figures)) = measured.iter().rev().find(|m| m.0 == scenario) else {
                    return Err(format!(
                        "the client checked {scenario:?} before measuring it"
                    ));
                };
                eprintln!("reference {scenario:?}: {figures:?} {check:?}");
                out.push(scenario, figures, check);
            }
            Event::Done => break,
        }
        if ack {
            stdin.write_all(b"ok\n").await.map_err(|e| e.to_string())?;
        }
    }
    let status = client.wait().await.map_err(|e| e.to_string())?;
    if !status.success() && out.results.len() < Scenario::ALL.len() {
        return Err(format!(
            "the reference client failed ({status}) after {} scenario(s)",
            out.results.len()
        ));
    }
    Ok(out)
}
