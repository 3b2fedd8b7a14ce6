//! Test-only helpers: an in-process relay on 127.0.0.1:0 and a minimal reqwest client that
//! speaks the wire types and drives the device side of onsite-sync.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use automerge::AutoCommit;
use onsite_domain::{DocId, Millis};
use onsite_relay::seed::{SeedSummary, seed_demo};
use onsite_relay::{Config, RunningRelay};
use onsite_sync::device::{self, PeerState};
use onsite_testkit::sim;
use onsite_wire::{ErrorBody, SignInRequest, SignInResponse, SyncRequest, SyncResponse};
use reqwest::StatusCode;

/// SQL that takes a SQLite relay database back to before the reminder checks (migration 11).
pub const BEFORE_REMINDER_CHECKS: &str = "DROP TABLE reminder_checks; PRAGMA user_version = 10;";

/// SQL that takes a SQLite relay database back to before the job index (migrations 10 and 11).
pub const BEFORE_JOBS: &str =
    "DROP TABLE reminder_checks; DROP TABLE jobs; PRAGMA user_version = 9;";

/// SQL that takes a SQLite relay database back to before tenancy (migrations 9 to 11): what
/// tests of older migrations run first.
pub const BEFORE_TENANCY: &str = "DROP TABLE reminder_checks; DROP TABLE jobs;
    DROP INDEX docs_meta_centre; DROP TABLE centres;
    ALTER TABLE docs DROP COLUMN centre; ALTER TABLE users DROP COLUMN centre;
    DELETE FROM feed WHERE reader LIKE '@%';";

/// Most round trips [`Device::sync`] makes before it gives up.
const SYNC_ROUNDS: usize = 60;

pub use onsite_testkit::PASSWORD;
pub use onsite_testkit::relay::wait_healthy;
pub const DAY: Millis = 1_790_000_000_000;

/// A fresh PostgreSQL database of the test's own (`onsite_testkit::backend::postgres`) with the
/// demo company and `orders` orders seeded: its URL, and the storage that seeded it.
pub fn seeded_postgres(
    dir: &Path,
    orders: u32,
) -> (
    std::path::PathBuf,
    std::sync::Arc<dyn onsite_relay::RelayStorage>,
) {
    let db = onsite_testkit::backend::postgres(dir);
    let storage = onsite_relay::storage::open(&db).expect("open the PostgreSQL database");
    seed_demo(
        storage.as_ref(),
        &Config::default(),
        PASSWORD,
        orders,
        DAY,
        DAY + 8 * onsite_domain::HOUR,
    )
    .expect("seed the demo company");
    (db, storage)
}

/// Start a relay on the database in `dir` and wait until `/healthz` answers.
pub async fn start_relay_with(config: Config) -> RunningRelay {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let relay = onsite_relay::start(config, listener).await.unwrap();
    wait_healthy(&relay.url()).await;
    relay
}

pub async fn start_relay(dir: &Path) -> RunningRelay {
    start_relay_with(Config::for_database(onsite_testkit::backend::database(dir))).await
}

/// Seed the demo company with 6 orders (o-00000, o-00002, o-00004 → tech.a; others → tech.b).
pub fn seed(relay: &RunningRelay) -> SeedSummary {
    let now = DAY + 8 * onsite_domain::HOUR;
    seed_demo(
        relay.storage.as_ref(),
        &Config::default(),
        PASSWORD,
        6,
        DAY,
        now,
    )
    .unwrap()
}

/// Read the push stream (`GET /api/v1/events`) until it announces feed cursor `head`, for at
/// most `within`: whether it did, and everything it said (for the assertion's message).
pub async fn announces(
    stream: &mut reqwest::Response,
    head: u64,
    within: Duration,
) -> (bool, String) {
    let wanted = format!("\"cursor\":{head}");
    let mut seen = String::new();
    let found = tokio::time::timeout(within, async {
        while let Some(chunk) = stream.chunk().await.expect("the stream reads") {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains(&wanted) {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    (found, seen)
}

/// An HTTP error answer.
#[derive(Debug)]
pub struct Refused {
    pub status: StatusCode,
    pub body: ErrorBody,
}

/// Minimal client for tests.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

pub async fn sign_in(base: &str, user: &str, device: &str) -> Client {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let r = http
        .post(format!("{base}/api/v1/sign-in"))
        .json(&SignInRequest {
            user_id: user.into(),
            password: PASSWORD.into(),
            device_id: device.into(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "sign-in of {user} must succeed");
    let s: SignInResponse = r.json().await.unwrap();
    Client {
        http,
        base: base.to_owned(),
        token: s.token,
    }
}

impl Client {
    pub fn with_token(&self, token: &str) -> Client {
        Client {
            token: token.to_owned(),
            ..self.clone()
        }
    }

    /// POST raw bytes to /api/v1/sync.
    pub async fn post_raw(
        &self,
        body: Vec<u8>,
        content_type: &str,
        encoding: Option<&str>,
    ) -> (StatusCode, Vec<u8>) {
        let mut rb = self
            .http
            .post(format!("{}/api/v1/sync", self.base))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(body);
        if let Some(e) = encoding {
            rb = rb.header("content-encoding", e);
        }
        let r = rb.send().await.unwrap();
        let status = r.status();
        (status, r.bytes().await.unwrap().to_vec())
    }

    pub async fn sync(&self, req: &SyncRequest) -> Result<SyncResponse, Refused> {
        let (status, body) = self
            .post_raw(serde_json::to_vec(req).unwrap(), "application/json", None)
            .await;
        decode(status, &body)
    }
}

pub fn decode(status: StatusCode, body: &[u8]) -> Result<SyncResponse, Refused> {
    if status == StatusCode::OK {
        Ok(serde_json::from_slice(body).expect("a 200 carries a SyncResponse"))
    } else {
        Err(Refused {
            status,
            body: serde_json::from_slice(body).unwrap_or_else(|_| {
                panic!(
                    "a {status} must carry an ErrorBody, got {:?}",
                    String::from_utf8_lossy(body)
                )
            }),
        })
    }
}

/// A device: documents with peer states, a cursor (and while a staff member's first sync reads
/// a snapshot, its position), synced through [`Client`].
pub struct Device {
    pub client: Client,
    pub cursor: u64,
    pub snapshot: Option<String>,
    pub docs: sim::Held,
}

impl Device {
    /// A device holding nothing, syncing through `client`.
    pub fn new(client: Client) -> Device {
        Device {
            client,
            cursor: 0,
            snapshot: None,
            docs: BTreeMap::new(),
        }
    }

    pub async fn sign_in(base: &str, user: &str) -> Device {
        Device::new(sign_in(base, user, &format!("dev-{user}")).await)
    }

    pub fn request(&mut self) -> SyncRequest {
        sim::request(self.cursor, self.snapshot.as_deref(), &mut self.docs)
    }

    /// Apply the relay's answer; a revoked document is dropped at once.
    pub fn apply(&mut self, resp: &SyncResponse) {
        sim::apply_messages(&mut self.docs, resp);
        for r in &resp.revocations {
            self.docs.remove(r);
        }
        self.cursor = resp.cursor;
        self.snapshot = resp.snapshot.clone();
    }

    /// Send the current request; the response is not applied.
    pub async fn exchange(&mut self) -> Result<SyncResponse, Refused> {
        let req = self.request();
        self.client.sync(&req).await
    }

    /// Sync until quiet (bounded); returns the round trips used.
    pub async fn sync(&mut self) -> usize {
        // A technician holds some 70 documents of the seed (its months of history included), which
        // a relay answering 3 documents at a time sends in about 25 rounds.
        for round in 1..=SYNC_ROUNDS {
            let req = self.request();
            let resp = self.client.sync(&req).await.expect("sync succeeds");
            assert!(
                resp.rejected.is_empty(),
                "unexpected rejections: {:?}",
                resp.rejected
            );
            self.apply(&resp);
            let unsynced = self
                .docs
                .values_mut()
                .filter(|(d, st)| device::is_unsynced(&mut d.clone(), st))
                .count();
            if !resp.more && unsynced == 0 {
                return round;
            }
        }
        panic!("sync did not become quiet in {SYNC_ROUNDS} round trips");
    }

    pub fn doc(&mut self, id: &DocId) -> &mut AutoCommit {
        &mut self.docs.get_mut(id).expect("device holds the document").0
    }
}

impl Device {
    /// Do the demo job on `order` as `tech` up to and including the customer's signature, through
    /// the domain's rules, and sync it; the visit's id.
    pub async fn sign_job(&mut self, order: &DocId, tech: &str, now: Millis) -> DocId {
        use onsite_domain::{doc, order::Order, visit::Visit};
        use sha2::Digest;
        let read = |dev: &mut Device, id: &DocId| dev.doc(id).clone();
        let o: Order = doc::read(&read(self, order)).expect("the order is on the device");
        let reference = onsite_testkit::job::Reference {
            library: doc::read(&read(self, &DocId::Templates)).expect("templates"),
            fees: doc::read(&read(self, &DocId::FeeSchedule)).expect("fees"),
            parts: doc::read(&read(self, &DocId::PartsCatalogue)).expect("parts"),
            profile: doc::read(&read(self, &DocId::Profile(tech.into()))).expect("profile"),
            device_id: format!("dev-{tech}"),
        };
        let mut visit = Visit::start(&o, tech, &reference.library).expect("the visit starts");
        let mut vdoc = doc::create(&visit).expect("the visit document");
        let image = hex::encode(sha2::Sha256::digest(onsite_testkit::job::signature_png()));
        let mut t = now;
        for e in onsite_testkit::job::signed_job_edits(o.service_type, "job", "赵敏", &image) {
            t += onsite_domain::MINUTE;
            reference
                .apply(&mut visit, &o, e, t)
                .expect("each demo edit is allowed");
            doc::write(&mut vdoc, &visit).unwrap();
            vdoc.commit();
        }
        let id = DocId::visit(&o.order_id, tech);
        self.docs.insert(id.clone(), (vdoc, PeerState::new()));
        self.sync().await;
        id
    }

    /// Change the order `id` through `f` and sync.
    pub async fn edit_order(
        &mut self,
        id: &DocId,
        f: impl FnOnce(&mut onsite_domain::order::Order),
    ) {
        self.edit_order_unsynced(id, f);
        self.sync().await;
    }

    /// Change the order `id` through `f` on the device only.
    pub fn edit_order_unsynced(
        &mut self,
        id: &DocId,
        f: impl FnOnce(&mut onsite_domain::order::Order),
    ) {
        use onsite_domain::doc;
        let d = self.doc(id);
        let mut o: onsite_domain::order::Order = doc::read(d).unwrap();
        f(&mut o);
        doc::write(d, &o).unwrap();
        d.commit();
    }
}
