//! Shared harness for the end-to-end tests in `tests/tests/`: a seeded relay running in this
//! process on 127.0.0.1:0, and devices (a store in a temp dir + the sync client) signed in to it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use onsite_client::{Session, SharedStore, SyncReport};
use onsite_domain::{DocId, HOUR, Millis, seed};
use onsite_relay::{Config, RunningRelay, SqliteStorage};
use onsite_store::Store;

/// Password of every demo account in these tests.
pub const PASSWORD: &str = "demo-password-1";
/// Orders the seeded relay starts with (alternately assigned to `tech.a` and `tech.b`).
pub const ORDERS: u32 = 6;

/// Midnight UTC of today, as the seed's day.
pub fn today() -> Millis {
    let now = chrono::Utc::now();
    now.date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp_millis()
}

/// A relay database seeded with the demo company.
pub fn seeded_database(dir: &Path) -> PathBuf {
    let db = dir.join("relay.sqlite3");
    let storage = SqliteStorage::open(&db).expect("open relay database");
    let day = today();
    onsite_relay::seed::seed_demo(
        &storage,
        &Config::for_database(&db),
        PASSWORD,
        ORDERS,
        day,
        day + 7 * HOUR,
    )
    .expect("seed the demo company");
    db
}

/// Start the relay on `addr` (use `127.0.0.1:0` for a fresh port) and wait until `/healthz`
/// answers.
pub async fn start_relay(db: &Path, addr: SocketAddr) -> RunningRelay {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .expect("bind the relay port");
    let relay = onsite_relay::start(Config::for_database(db), listener)
        .await
        .expect("relay starts");
    wait_healthy(&relay.url()).await;
    relay
}

/// A seeded relay on a fresh 127.0.0.1 port with its database in a temp dir (kept as long as
/// this value lives).
pub struct Seeded {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub relay: RunningRelay,
    pub url: String,
}

impl Seeded {
    pub async fn start() -> Seeded {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = seeded_database(dir.path());
        let relay = start_relay(&db, "127.0.0.1:0".parse().expect("address")).await;
        let url = relay.url();
        Seeded {
            dir,
            db,
            relay,
            url,
        }
    }
}

/// Poll `/healthz` (never a fixed sleep), failing after 10 s.
pub async fn wait_healthy(url: &str) {
    let client = reqwest::Client::new();
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

/// One device: its own store in a temp dir, signed in as `user`.
pub struct Device {
    pub user: String,
    pub store: SharedStore,
    pub session: Session,
    relay_url: String,
    _dir: tempfile::TempDir,
}

impl Device {
    /// A fresh device that signs in as `user` at `relay_url`.
    pub async fn sign_in(relay_url: &str, user: &str) -> Device {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open_in(dir.path()).expect("open device store");
        let store: SharedStore = Arc::new(Mutex::new(store));
        let session = onsite_client::sign_in(&store, relay_url, user, PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("{user} signs in: {e}"));
        Device {
            user: user.to_owned(),
            store,
            session,
            relay_url: relay_url.to_owned(),
            _dir: dir,
        }
    }

    /// Sync with the relay (the session's URL) until quiescent.
    pub async fn sync(&self) -> Result<SyncReport, onsite_client::ClientError> {
        let relay = onsite_client::Relay::new(&self.relay_url)?;
        let session = Session::load(&self.store)?.expect("signed in");
        onsite_client::sync_once(&self.store, &relay, &session, |_, _| {}).await
    }

    /// Point the device at another relay address (after a restart on a new port).
    pub fn set_relay(&mut self, url: &str) {
        self.relay_url = url.to_owned();
    }

    pub fn with_store<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        let mut guard = self.store.lock().expect("store lock");
        f(&mut guard)
    }

    /// Orders this device holds.
    pub fn order_ids(&self) -> Vec<String> {
        self.with_store(|s| {
            s.list_doc_ids()
                .expect("list docs")
                .into_iter()
                .filter_map(|d| match d {
                    DocId::Order(id) => Some(id),
                    _ => None,
                })
                .collect()
        })
    }

    /// Do a whole job on `order_id` offline, up to and including the customer's signature.
    pub fn complete_job(&self, order_id: &str, now: Millis) -> onsite_domain::visit::Visit {
        let tech = self.user.clone();
        self.with_store(|s| {
            let order: onsite_domain::order::Order = s
                .read(&DocId::Order(order_id.to_owned()))
                .expect("order on device");
            s.start_visit(order_id, &tech).expect("start visit");
            let mut t = now;
            for e in seed::job_edits(order.service_type, &format!("{order_id}-{tech}")) {
                t += 60_000;
                s.apply_visit_edit(order_id, &tech, e.clone(), t)
                    .unwrap_or_else(|err| panic!("{e:?} refused: {err}"));
            }
            let png = signature_png();
            let sha = s
                .put_attachment(&png, "image/png")
                .expect("store signature");
            s.apply_visit_edit(
                order_id,
                &tech,
                seed::sign_edit(order_id, &order.customer.name, &sha),
                t + 60_000,
            )
            .expect("customer signs")
        })
    }
}

/// A small real PNG standing in for the signature pad's output.
pub fn signature_png() -> Vec<u8> {
    // 1×1 black pixel PNG.
    vec![
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0,
        0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0, 0x3a, 0x7e, 0x9b, 0x55, 0, 0, 0, 0x0a, 0x49, 0x44,
        0x41, 0x54, 0x08, 0xd7, 0x63, 0x60, 0, 0, 0, 2, 0, 1, 0xe2, 0x21, 0xbc, 0x33, 0, 0, 0, 0,
        0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ]
}
