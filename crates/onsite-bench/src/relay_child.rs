//! The release `onsite-relay` binary as a child process on a fresh 127.0.0.1 port and its own
//! database, so a benchmark measures the real server — HTTP, gzip, SQLite or PostgreSQL — and can read its
//! memory and CPU from `/proc`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::proc_stats::ProcStats;

/// A running relay; killed when dropped.
pub struct RelayChild {
    child: Child,
    pub url: String,
}

/// The relay binary: `$ONSITE_RELAY_BIN`, else `target/release/onsite-relay` of this workspace
/// (build it first: `cargo build --release -p onsite-relay`).
pub fn relay_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("ONSITE_RELAY_BIN") {
        return p.into();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/onsite-relay")
}

impl RelayChild {
    /// Start `onsite-relay serve` on `database` (a SQLite path or a `postgres://` URL, created
    /// by the caller, e.g. with accounts added through `onsite_relay::storage::open`) with
    /// `extra` arguments, and wait until
    /// `/healthz` answers (polled, 30 s at most).
    pub async fn start(database: &Path, extra: &[&str]) -> std::io::Result<RelayChild> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let bin = relay_bin();
        let mut child = Command::new(&bin)
            .arg("--database")
            .arg(database)
            .arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .args(extra)
            // The relay logs at its default level unless `ONSITE_RELAY_LOG` says otherwise, so
            // what its log costs is measured as deployed; only its warnings and errors are
            // shown ([`forward_warnings`]).
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!(
                        "start {}: {e} (build it with `cargo build --release --bin onsite-relay`)",
                        bin.display()
                    ),
                )
            })?;
        if let Some(out) = child.stdout.take() {
            std::thread::spawn(move || forward_warnings(out));
        }
        let relay = RelayChild {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        relay.wait_healthy().await?;
        Ok(relay)
    }

    async fn wait_healthy(&self) -> std::io::Result<()> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = client.get(format!("{}/healthz", self.url)).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "the relay at {} did not answer /healthz within 30 s",
                        self.url
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The relay's memory and CPU now (peak RSS since it started).
    pub fn stats(&self) -> ProcStats {
        ProcStats::read(self.pid()).unwrap_or_default()
    }
}

/// Copy the relay's WARN and ERROR log lines to this process's stderr (a storage error behind a
/// `503 relay.unavailable` says what failed); the rest of its log is read and dropped.
fn forward_warnings(out: std::process::ChildStdout) {
    use std::io::BufRead;
    for line in std::io::BufReader::new(out).lines() {
        let Ok(line) = line else { return };
        if line.contains(" WARN ") || line.contains(" ERROR ") {
            eprintln!("relay: {line}");
        }
    }
}

impl Drop for RelayChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
