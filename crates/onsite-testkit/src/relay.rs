//! [`Seeded`]: the demo company's relay running in this process on 127.0.0.1, its database in a
//! temp dir. Dropping it stops the relay; [`Seeded::restart`] brings it back on the same address
//! and database, as after a crash or a deploy.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use onsite_domain::{HOUR, Millis};
use onsite_relay::{Config, RunningRelay};

use crate::{DAY, PASSWORD};

/// Orders the seeded relay starts with (even numbers assigned to `tech.a`, odd to `tech.b`).
pub const ORDERS: u32 = 6;

/// A relay database for `dir` ([`crate::backend::database`]: SQLite unless the test runs on
/// PostgreSQL) seeded with the demo company: every account has [`PASSWORD`], [`ORDERS`] orders
/// are scheduled on `day`.
pub fn seeded_database(dir: &Path, day: Millis) -> PathBuf {
    let db = crate::backend::database(dir);
    let storage = crate::backend::open(dir);
    onsite_relay::seed::seed_demo(
        storage.as_ref(),
        &Config::for_database(&db),
        PASSWORD,
        ORDERS,
        day,
        day + 7 * HOUR,
    )
    .expect("seed the demo company");
    db
}

/// Start the relay on `addr` (`127.0.0.1:0` for a fresh port) and wait until `/healthz` answers.
pub async fn start_relay(db: &Path, addr: SocketAddr) -> RunningRelay {
    start_on(Config::for_database(db), addr).await
}

/// Start the relay with `config` (e.g. a smaller `max_docs_per_response`) on a fresh 127.0.0.1
/// port and wait until `/healthz` answers.
pub async fn start_with(config: Config) -> RunningRelay {
    start_on(config, "127.0.0.1:0".parse().expect("address")).await
}

async fn start_on(config: Config, addr: SocketAddr) -> RunningRelay {
    let listener = bind(addr).await;
    let relay = onsite_relay::start(config, listener)
        .await
        .expect("relay starts");
    wait_healthy(&relay.url()).await;
    relay
}

/// Bind `addr`. A relay killed in this process ([`Seeded::kill`]) lets go of its port only when
/// its aborted task is next polled, which can take a moment while it is busy with a large sync;
/// so the same address is tried again until it is free, failing after 10 s.
async fn bind(addr: SocketAddr) -> tokio::net::TcpListener {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => return listener,
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => assert!(
                tokio::time::Instant::now() < deadline,
                "the relay port {addr} stayed in use: {e}"
            ),
            Err(e) => panic!("bind the relay port {addr}: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Poll `/healthz` (never a fixed sleep), failing after 10 s.
pub async fn wait_healthy(url: &str) {
    wait_healthy_with(&reqwest::Client::new(), url).await
}

/// Start the relay with `config` (its TLS files set) on a fresh 127.0.0.1 port and wait until
/// `/healthz` answers over HTTPS to a client that trusts `ca_pem`, the test's own CA.
pub async fn start_https(config: Config, ca_pem: &str) -> RunningRelay {
    let listener = bind("127.0.0.1:0".parse().expect("address")).await;
    let relay = onsite_relay::start(config, listener)
        .await
        .expect("the relay starts with its certificate");
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("the test CA's PEM");
    let client = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .expect("a client trusting the test CA");
    wait_healthy_with(&client, &relay.url()).await;
    relay
}

/// [`wait_healthy`] through `client` (e.g. one that trusts a test's CA).
pub async fn wait_healthy_with(client: &reqwest::Client, url: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(r) = client.get(format!("{url}/healthz")).send().await
            && r.status().is_success()
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "relay at {url} did not become healthy"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Poll (never a fixed sleep) until `done` holds, failing after 30 s with `what`.
pub async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A seeded relay on a fresh 127.0.0.1 port with its database in a temp dir (kept as long as this
/// value lives). Dropping it stops the relay at once.
pub struct Seeded {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    /// `http://127.0.0.1:<port>`, the same across restarts.
    pub url: String,
    addr: SocketAddr,
    relay: Option<RunningRelay>,
}

impl Seeded {
    /// The demo company with its orders on the tests' [`DAY`].
    pub async fn start() -> Seeded {
        Seeded::start_on(DAY).await
    }

    /// The demo company with its orders on `day` (a test driving the real app binary, which reads
    /// the system clock, passes [`crate::clock::wall_clock_day`]).
    pub async fn start_on(day: Millis) -> Seeded {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = seeded_database(dir.path(), day);
        let relay = start_relay(&db, "127.0.0.1:0".parse().expect("address")).await;
        Seeded {
            url: relay.url(),
            addr: relay.addr,
            dir,
            db,
            relay: Some(relay),
        }
    }

    /// The running relay (its storage, for checking what it holds).
    pub fn relay(&self) -> &RunningRelay {
        self.relay.as_ref().expect("the relay is running")
    }

    /// Stop the relay at once, as a crash would: open connections are cut.
    pub fn kill(&mut self) {
        if let Some(relay) = self.relay.take() {
            relay.kill();
        }
    }

    /// Start the relay again on the same address and database (after [`Seeded::kill`], or
    /// stopping a running one first) and wait until it answers.
    pub async fn restart(&mut self) {
        if let Some(relay) = self.relay.take() {
            relay.stop().await;
        }
        self.relay = Some(start_relay(&self.db, self.addr).await);
    }

    /// Stop the relay gracefully: in-flight requests finish first.
    pub async fn stop(mut self) {
        if let Some(relay) = self.relay.take() {
            relay.stop().await;
        }
    }
}

impl Drop for Seeded {
    fn drop(&mut self) {
        self.kill();
    }
}
