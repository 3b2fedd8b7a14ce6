//! Two relay processes on one PostgreSQL database, five devices (two per technician and the
//! dispatcher's) alternating between them on every request, an instance killed with SIGKILL
//! while requests carrying changes are in flight and started again on the same database and
//! address — A, then B, then A again, the devices going on through the other one meanwhile
//! (issue 14): nothing acknowledged is lost, nothing is stored twice, every device converges,
//! and every device's feed reads the same through either instance.
//!
//! The instances are real `onsite-relay serve` processes, so the kill is a real SIGKILL: no
//! destructor, no graceful shutdown, PostgreSQL sees its connections drop mid-transaction. A
//! kill may land between a commit and its answer (the summary line counts the changes committed
//! by requests whose answer was cut); the device then sends them again to the other instance.
//! PostgreSQL only: the test needs `ONSITE_TEST_POSTGRES` (`scripts/pg.sh`) and fails without it.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use automerge::AutoCommit;
use common::{Device, decode, sign_in};
use onsite_domain::order::Order;
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, doc, templates};
use onsite_sync::device::{self, PeerState};
use onsite_wire::{Code, SyncRequest, SyncResponse};
use reqwest::StatusCode;
use tokio::time::Instant;

const A: usize = 0;
const B: usize = 1;
const NAMES: [&str; 2] = ["A", "B"];
/// Orders the seed schedules (even ones `tech.a`'s, odd ones `tech.b`'s).
const ORDERS: u32 = 6;
/// Edits each device makes at least (more while the kills, the runs on one instance alone and
/// the restarts are still under way).
const ROUNDS: usize = 12;
/// Documents per sync answer: small, so a first sync takes many requests and a feed reading
/// many pages.
const PAGE: u32 = 8;
/// Requests one sync may take before the test gives up on its becoming quiet.
const SYNC_REQUESTS: usize = 400;
/// Answers each phase needs: the other instance alone after a kill, the killed one again after
/// its restart.
const PHASE_ANSWERS: usize = 20;
/// The whole test's bound.
const BOUND: Duration = Duration::from_secs(50);
/// The bound of each wait inside it.
const WAIT: Duration = Duration::from_secs(20);

/// A stored change: (document id, change hash).
type Change = (String, Vec<u8>);

/// One `onsite-relay serve` process on the test's database; SIGKILLed on drop.
struct RelayProcess {
    name: &'static str,
    db: String,
    /// Chosen by the first start (`127.0.0.1:0`), kept across restarts.
    addr: Option<SocketAddr>,
    child: Option<Child>,
    /// Its log lines at WARN or ERROR, and whatever it wrote to stderr.
    complaints: Arc<Mutex<Vec<String>>>,
}

impl RelayProcess {
    async fn start(name: &'static str, db: &str) -> RelayProcess {
        let mut p = RelayProcess {
            name,
            db: db.to_owned(),
            addr: None,
            child: None,
            complaints: Arc::default(),
        };
        p.restart().await;
        p
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr.expect("the instance has started"))
    }

    /// SIGKILL the process (`Child::kill` on Unix) and reap it.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL the relay instance");
            child.wait().expect("reap the relay instance");
        }
    }

    /// Start the process (again) on the same database and address and wait until `/healthz`
    /// answers. The first start listens on `127.0.0.1:0` and learns its port from the relay's
    /// "relay serving" log line; a restart whose port is not free yet is tried again (bounded).
    async fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.spawn().await {
                Ok(addr) => {
                    self.addr = Some(addr);
                    break;
                }
                Err(why) => assert!(
                    Instant::now() < deadline,
                    "relay instance {} did not start on {}: {why}",
                    self.name,
                    self.db
                ),
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        onsite_testkit::relay::wait_healthy(&self.url()).await;
    }

    /// Spawn the process; its listening address once it logs it, or why it did not.
    async fn spawn(&mut self) -> Result<SocketAddr, String> {
        let listen = self
            .addr
            .map_or_else(|| "127.0.0.1:0".to_owned(), |a| a.to_string());
        let mut child = Command::new(env!("CARGO_BIN_EXE_onsite-relay"))
            .args(["--database", &self.db, "serve", "--listen", &listen])
            .args(["--log-format", "json"])
            .args(["--max-docs-per-response", &PAGE.to_string()])
            .env("ONSITE_RELAY_LOG", "info")
            .env_remove("ONSITE_RELAY_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn onsite-relay serve");
        let (serving, listening) = std::sync::mpsc::channel();
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let (name, complaints) = (self.name, self.complaints.clone());
        // Read stdout to its end, so the process never writes into a closed pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout.expect("piped stdout")).lines() {
                let Ok(line) = line else { break };
                let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
                if v["fields"]["message"] == "relay serving"
                    && let Some(addr) = v["fields"]["addr"].as_str()
                {
                    let _ = serving.send(addr.parse::<SocketAddr>());
                }
                if matches!(v["level"].as_str(), Some("WARN" | "ERROR")) {
                    complaints.lock().unwrap().push(format!("{name}: {line}"));
                }
            }
        });
        let errors = Arc::new(Mutex::new(Vec::new()));
        let (errs, complaints) = (errors.clone(), self.complaints.clone());
        let stderr_done = std::thread::spawn(move || {
            for line in BufReader::new(stderr.expect("piped stderr")).lines() {
                let Ok(line) = line else { break };
                errs.lock().unwrap().push(line.clone());
                complaints
                    .lock()
                    .unwrap()
                    .push(format!("{name} (stderr): {line}"));
            }
        });
        let got = tokio::task::spawn_blocking(move || listening.recv_timeout(WAIT))
            .await
            .expect("wait for the relay's serving line");
        match got {
            Ok(Ok(addr)) => {
                self.child = Some(child);
                Ok(addr)
            }
            other => {
                let _ = child.kill();
                let status = child.wait().expect("reap the relay instance");
                let _ = stderr_done.join();
                Err(format!(
                    "{other:?}, exit {status}, stderr: {}",
                    errors.lock().unwrap().join("\n")
                ))
            }
        }
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What the devices and the killer share: where the instances are, which are up, and counts
/// of requests per instance.
struct Shared {
    urls: [String; 2],
    up: [AtomicBool; 2],
    /// How many times each instance was killed.
    kills: [AtomicUsize; 2],
    in_flight: [AtomicUsize; 2],
    /// Requests in flight that carry changes.
    writes_in_flight: [AtomicUsize; 2],
    answered: [AtomicUsize; 2],
    /// Requests that got no HTTP answer because their instance was killed meanwhile.
    cut: [AtomicUsize; 2],
    /// Edit rounds synced, all devices together.
    edits: AtomicUsize,
    /// The kills, the runs on one instance alone and the restarts are done: devices may stop
    /// after `ROUNDS` edits.
    stop: AtomicBool,
}

/// A device (the test kit's [`Device`]: real documents, real protocol code) with its record of
/// what it made and what the relay acknowledged.
struct Dev {
    name: &'static str,
    user: &'static str,
    dev: Device,
    turn: usize,
    requests: usize,
    /// Every change this device made.
    made: BTreeSet<Change>,
    /// Every change the relay acknowledged to this device (a 200 answer to a request carrying
    /// the document: it holds everything the device held of it then), with which answer.
    acked: BTreeMap<Change, String>,
    /// The sum of the answers' `stored_changes`.
    stored: u64,
    /// Requests answered `relay.busy` (sent again).
    busy: Vec<String>,
    /// Requests answered other than 200 or `relay.busy` (none expected).
    refused: Vec<String>,
    /// Requests without an HTTP answer though no kill happened while they were in flight (none
    /// expected).
    failed: Vec<String>,
}

/// Every change hash of a document.
fn hashes(d: &mut AutoCommit) -> Vec<Vec<u8>> {
    d.get_changes(&[])
        .iter()
        .map(|c| c.hash().0.to_vec())
        .collect()
}

fn order(n: u32) -> DocId {
    DocId::Order(format!("o-{n:05}"))
}

/// POST a sync request to `base`; the status and body, or the transport error.
async fn post(
    client: &common::Client,
    base: &str,
    req: &SyncRequest,
) -> Result<(StatusCode, Vec<u8>), reqwest::Error> {
    let r = client
        .http
        .post(format!("{base}/api/v1/sync"))
        .bearer_auth(&client.token)
        .json(req)
        .send()
        .await?;
    let status = r.status();
    Ok((status, r.bytes().await?.to_vec()))
}

impl Dev {
    async fn sign_in(shared: &Shared, user: &'static str, name: &'static str) -> Dev {
        let mut client = sign_in(&shared.urls[A], user, name).await;
        // A connection per request: a request fails only when its own instance dies under it,
        // never on a kept-alive connection to an instance killed earlier.
        client.http = reqwest::Client::builder()
            .timeout(WAIT)
            .pool_max_idle_per_host(0)
            .build()
            .expect("an HTTP client");
        Dev {
            name,
            user,
            dev: Device::new(client),
            turn: 0,
            requests: 0,
            made: BTreeSet::new(),
            acked: BTreeMap::new(),
            stored: 0,
            busy: Vec::new(),
            refused: Vec::new(),
            failed: Vec::new(),
        }
    }

    /// One request, through the other instance than the last one (through the other one while
    /// an instance is down); the answer, applied, or `None` when there was none.
    async fn exchange(&mut self, shared: &Shared) -> Option<SyncResponse> {
        // Kills counted before the instance is chosen: the killer marks an instance down before
        // it counts the kill, so a request that finds the count unchanged after failing was not
        // cut by a kill.
        let kills = shared.kills.each_ref().map(|k| k.load(Ordering::SeqCst));
        let i = if shared.up[self.turn % 2].load(Ordering::SeqCst) {
            self.turn % 2
        } else {
            1 - self.turn % 2
        };
        self.turn += 1;
        self.requests += 1;
        let n = self.requests;
        let req = self.dev.request();
        let sent: Vec<(DocId, Vec<Vec<u8>>)> = req
            .docs
            .iter()
            .map(|m| (m.doc.clone(), hashes(self.dev.doc(&m.doc))))
            .collect();
        let writes = !req.docs.is_empty();
        shared.in_flight[i].fetch_add(1, Ordering::SeqCst);
        shared.writes_in_flight[i].fetch_add(usize::from(writes), Ordering::SeqCst);
        let result = post(&self.dev.client, &shared.urls[i], &req).await;
        shared.writes_in_flight[i].fetch_sub(usize::from(writes), Ordering::SeqCst);
        shared.in_flight[i].fetch_sub(1, Ordering::SeqCst);
        match result {
            Err(_) if shared.kills[i].load(Ordering::SeqCst) != kills[i] => {
                shared.cut[i].fetch_add(1, Ordering::SeqCst);
                None
            }
            Err(e) => {
                self.failed
                    .push(format!("request {n} through {}: {e}", NAMES[i]));
                None
            }
            Ok((StatusCode::OK, body)) => {
                let resp = decode(StatusCode::OK, &body).expect("a 200 is a sync answer");
                assert!(
                    resp.rejected.is_empty(),
                    "{}'s request {n} through {} had documents refused: {:?}; every edit keeps \
                     the domain's rules, so a refusal means the relay judged a resent or \
                     merged document differently",
                    self.name,
                    NAMES[i],
                    resp.rejected
                );
                for (doc, hs) in sent {
                    for h in hs {
                        self.acked
                            .entry((doc.to_string(), h))
                            .or_insert_with(|| format!("request {n} through {}", NAMES[i]));
                    }
                }
                self.stored += resp.stored_changes;
                shared.answered[i].fetch_add(1, Ordering::SeqCst);
                self.dev.apply(&resp);
                Some(resp)
            }
            Ok((status, body))
                if decode(status, &body).is_err_and(|r| r.body.code == Code::RelayBusy) =>
            {
                // The relay's documented "send it again" (`SyncError::Contended`: the request's
                // documents changed under it in every attempt): not acknowledged, so sent again.
                let other = if shared.up[1 - i].load(Ordering::SeqCst) {
                    "both up"
                } else {
                    "the other one down"
                };
                self.busy.push(format!(
                    "request {n} through {} ({status}, {other}, {} edits in)",
                    NAMES[i],
                    shared.edits.load(Ordering::SeqCst)
                ));
                None
            }
            Ok((status, body)) => {
                self.refused.push(format!(
                    "request {n} through {}: {status} {}",
                    NAMES[i],
                    String::from_utf8_lossy(&body)
                ));
                None
            }
        }
    }

    /// Sync until the feed is read and nothing local is unconfirmed (bounded).
    async fn sync(&mut self, shared: &Shared) {
        for _ in 0..SYNC_REQUESTS {
            if let Some(resp) = self.exchange(shared).await {
                let unsynced = self
                    .dev
                    .docs
                    .values_mut()
                    .any(|(d, st)| device::is_unsynced(d, st));
                if !resp.more && !unsynced {
                    return;
                }
            }
        }
        panic!(
            "{}'s sync did not become quiet in {SYNC_REQUESTS} requests (refused: {:?}, \
             failed: {:?})",
            self.name, self.refused, self.failed
        );
    }

    /// Commit `edit` of `id`'s content as one change and record it as made.
    fn edit<T: autosurgeon::Hydrate + autosurgeon::Reconcile>(
        &mut self,
        id: &DocId,
        edit: impl FnOnce(&mut T),
    ) {
        let d = self.dev.doc(id);
        let before = d.get_heads();
        let mut value: T = doc::read(d).expect("the document reads");
        edit(&mut value);
        doc::write(d, &value).expect("the document writes");
        d.commit();
        let new: Vec<_> = d
            .get_changes(&before)
            .iter()
            .map(|c| c.hash().0.to_vec())
            .collect();
        assert_eq!(new.len(), 1, "{}'s edit of {id} is one change", self.name);
        self.made
            .extend(new.into_iter().map(|h| (id.to_string(), h)));
    }
}

/// A technician's device: start a visit on each of `own` orders, then edit one per round (and
/// every third round the visit of `sibling`, the same technician's other device, once it has
/// it), syncing after each edit.
async fn technician(
    shared: Arc<Shared>,
    user: &'static str,
    name: &'static str,
    own: Vec<u32>,
    sibling: u32,
) -> Dev {
    let mut d = Dev::sign_in(&shared, user, name).await;
    d.sync(&shared).await;
    let mut visits = Vec::new();
    for n in own {
        let o: Order = doc::read(d.dev.doc(&order(n))).expect("the order is on the device");
        let v = Visit::start(&o, user, &templates::builtin_library()).expect("the visit starts");
        let id = DocId::visit(&o.order_id, user);
        let mut created = doc::create(&v).expect("the visit document");
        d.made.extend(
            hashes(&mut created)
                .into_iter()
                .map(|h| (id.to_string(), h)),
        );
        d.dev.docs.insert(id.clone(), (created, PeerState::new()));
        visits.push(id);
    }
    let sibling = DocId::visit(&format!("o-{sibling:05}"), user);
    let mut round = 0;
    while round < ROUNDS || !shared.stop.load(Ordering::SeqCst) {
        let id = if round % 3 == 2 && d.dev.docs.contains_key(&sibling) {
            sibling.clone()
        } else {
            visits[round % visits.len()].clone()
        };
        d.edit(&id, |v: &mut Visit| {
            v.diagnosis = format!("{name} round {round}")
        });
        d.sync(&shared).await;
        shared.edits.fetch_add(1, Ordering::SeqCst);
        round += 1;
    }
    d
}

/// The dispatcher's device: append `d<round>` to an order's shared notes each round, syncing
/// after each edit. Returns the device and the notes each order should end with.
async fn dispatcher(shared: Arc<Shared>) -> (Dev, BTreeMap<DocId, String>) {
    let mut d = Dev::sign_in(&shared, "disp", "d-console").await;
    d.sync(&shared).await;
    let mut notes: BTreeMap<DocId, String> = (0..ORDERS)
        .map(|n| {
            let o: Order = doc::read(d.dev.doc(&order(n))).expect("the dispatcher has the order");
            (order(n), o.dispatcher_notes.as_str().to_owned())
        })
        .collect();
    let mut round = 0;
    while round < ROUNDS || !shared.stop.load(Ordering::SeqCst) {
        let id = order(round as u32 % ORDERS);
        let text = format!("{}d{round} ", notes[&id]);
        d.edit(&id, |o: &mut Order| o.dispatcher_notes.update(&text));
        notes.insert(id, text);
        d.sync(&shared).await;
        shared.edits.fetch_add(1, Ordering::SeqCst);
        round += 1;
    }
    (d, notes)
}

/// Poll `done` every millisecond until it holds, failing after [`WAIT`] with `what`.
async fn until(what: &str, shared: &Shared, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what} (answered A/B {:?}/{:?}, cut {:?}/{:?}, edits {:?})",
            shared.answered[A],
            shared.answered[B],
            shared.cut[A],
            shared.cut[B],
            shared.edits
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// The instances killed in turn: A, as the issue asks, then B and A again, so more requests
/// are cut at more places.
const VICTIMS: [usize; 3] = [A, B, A];

/// Once the devices are editing, for each of [`VICTIMS`]: SIGKILL it while a request carrying
/// changes is in flight to it, let the devices go on through the other instance alone, start it
/// again on the same database and address, and let the devices alternate again until it has
/// answered; then let the devices stop. Returns how many requests were in flight at each kill.
async fn kill_and_restart(shared: &Shared, instances: &mut [RelayProcess; 2]) -> Vec<usize> {
    let n = |c: &AtomicUsize| c.load(Ordering::SeqCst);
    until("the devices to make 10 edits", shared, || {
        n(&shared.edits) >= 10
    })
    .await;
    let mut in_flight = Vec::new();
    for victim in VICTIMS {
        let other = 1 - victim;
        until(
            &format!("a request with changes in flight on {}", NAMES[victim]),
            shared,
            || n(&shared.writes_in_flight[victim]) > 0,
        )
        .await;
        shared.up[victim].store(false, Ordering::SeqCst);
        shared.kills[victim].fetch_add(1, Ordering::SeqCst);
        in_flight.push(n(&shared.in_flight[victim]));
        instances[victim].kill();
        let answered = n(&shared.answered[other]);
        until(&format!("{} to answer alone", NAMES[other]), shared, || {
            n(&shared.answered[other]) >= answered + PHASE_ANSWERS
        })
        .await;
        instances[victim].restart().await;
        let answered = n(&shared.answered[victim]);
        shared.up[victim].store(true, Ordering::SeqCst);
        until(
            &format!("{} to answer again after its restart", NAMES[victim]),
            shared,
            || n(&shared.answered[victim]) >= answered + PHASE_ANSWERS,
        )
        .await;
    }
    shared.stop.store(true, Ordering::SeqCst);
    in_flight
}

/// Run `sql` on the test's database (on a thread of its own: the driver blocks).
fn query<T: Send + 'static>(
    db: &str,
    sql: &'static str,
    row: impl Fn(&postgres::Row) -> T + Send + 'static,
) -> Vec<T> {
    let db = db.to_owned();
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&db, postgres::NoTls).expect("connect");
        c.query(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .iter()
            .map(row)
            .collect()
    })
    .join()
    .expect("the query thread")
}

/// Read `client`'s whole feed from cursor 0 with nothing to send, through `base`: every page
/// (a staff member's first pages are a snapshot: its position is sent back while the cursor is
/// 0).
async fn read_feed(client: &common::Client, base: &str, who: &str) -> Vec<SyncResponse> {
    let mut pages: Vec<SyncResponse> = Vec::new();
    let mut cursor = 0;
    let mut snapshot = None;
    for _ in 0..SYNC_REQUESTS {
        let mut req = device::build_request(cursor, Vec::new());
        req.snapshot = snapshot.take().filter(|_| cursor == 0);
        let (status, body) = post(client, base, &req)
            .await
            .unwrap_or_else(|e| panic!("{who}'s feed reading through {base}: {e}"));
        let page = decode(status, &body)
            .unwrap_or_else(|r| panic!("{who}'s feed reading through {base} is refused: {r:?}"));
        cursor = page.cursor;
        snapshot = page.snapshot.clone();
        let more = page.more;
        pages.push(page);
        if !more {
            return pages;
        }
    }
    panic!("{who}'s feed through {base} did not end in {SYNC_REQUESTS} pages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_instance_killed_mid_sync_loses_and_repeats_nothing_and_devices_converge() {
    let dir = tempfile::tempdir().unwrap();
    let progress = Arc::new(Mutex::new(String::from("starting")));
    let run = scenario(dir.path(), progress.clone());
    if tokio::time::timeout(BOUND, run).await.is_err() {
        panic!(
            "the test did not finish in {BOUND:?}; it was at: {}",
            progress.lock().unwrap()
        );
    }
}

async fn scenario(dir: &std::path::Path, progress: Arc<Mutex<String>>) {
    let at = |what: &str| *progress.lock().unwrap() = what.to_owned();
    let started = Instant::now();
    at("seeding the database");
    let (db, storage) = common::seeded_postgres(dir, ORDERS);
    let seeded = storage.head_seq().expect("the seeded head");
    drop(storage);
    let db = db.to_str().expect("a URL").to_owned();

    at("starting the instances");
    let mut instances = [
        RelayProcess::start("A", &db).await,
        RelayProcess::start("B", &db).await,
    ];
    let shared = Arc::new(Shared {
        urls: instances.each_ref().map(RelayProcess::url),
        up: [AtomicBool::new(true), AtomicBool::new(true)],
        kills: Default::default(),
        in_flight: Default::default(),
        writes_in_flight: Default::default(),
        answered: Default::default(),
        cut: Default::default(),
        edits: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
    });

    at("devices syncing, instances to be killed");
    let techs = [
        ("tech.a", "a-phone", vec![0, 2], 4),
        ("tech.a", "a-tablet", vec![4], 0),
        ("tech.b", "b-phone", vec![1, 3], 5),
        ("tech.b", "b-tablet", vec![5], 1),
    ]
    .map(|(user, name, own, sibling)| {
        tokio::spawn(technician(shared.clone(), user, name, own, sibling))
    });
    let disp = tokio::spawn(dispatcher(shared.clone()));
    let in_flight = kill_and_restart(&shared, &mut instances).await;

    at("devices finishing their edits");
    let mut devs = Vec::new();
    for t in techs {
        devs.push(t.await.expect("a technician's device finishes"));
    }
    let (d, notes) = disp.await.expect("the dispatcher's device finishes");
    devs.push(d);
    at("devices converging");
    for d in &mut devs {
        d.sync(&shared).await;
    }

    at("checking");
    let log: Vec<(u64, Change)> = query(
        &db,
        "SELECT seq, doc_id, hash FROM changes ORDER BY seq",
        |r| (r.get::<_, i64>(0) as u64, (r.get(1), r.get(2))),
    );
    let head = query(&db, "SELECT seq FROM feed_head", |r| {
        r.get::<_, i64>(0) as u64
    })[0];
    let numbers: Vec<u64> = log.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        numbers,
        (1..=head).collect::<Vec<_>>(),
        "the change log is numbered 1..={head} (the feed head) without a gap or a repeat, \
         also where the killed instance's transaction was cut"
    );
    let mut stored: BTreeMap<String, BTreeSet<Vec<u8>>> = BTreeMap::new();
    for (seq, (doc_id, hash)) in &log {
        assert!(
            stored
                .entry(doc_id.clone())
                .or_default()
                .insert(hash.clone()),
            "change {} of {doc_id} is stored once, yet seq {seq} stores it again",
            hex::encode(hash)
        );
    }
    let new: BTreeSet<Change> = log
        .iter()
        .filter(|(seq, _)| *seq > seeded)
        .map(|(_, c)| c.clone())
        .collect();
    let made: BTreeSet<Change> = devs.iter().flat_map(|d| d.made.iter().cloned()).collect();
    let lost: Vec<String> = made
        .difference(&new)
        .map(|(doc_id, hash)| format!("{doc_id} {}", hex::encode(hash)))
        .collect();
    assert!(
        lost.is_empty(),
        "every change a device made and synced until it was quiet is in the change log after \
         the seed, yet these are not: {lost:?}"
    );
    assert_eq!(
        new.len(),
        made.len(),
        "every change stored after the seed is one a device made, each once"
    );
    for d in &devs {
        for ((doc_id, hash), answer) in &d.acked {
            assert!(
                stored.get(doc_id).is_some_and(|s| s.contains(hash)),
                "change {} of {doc_id}, acknowledged to {} by its {answer}, is not stored: an \
                 acknowledged change was lost",
                hex::encode(hash),
                d.name
            );
        }
        assert!(
            d.refused.is_empty(),
            "every request {} sent was answered 200 (or relay.busy) or cut by a kill; refused: \
             {:?}",
            d.name,
            d.refused
        );
        assert!(
            d.failed.is_empty(),
            "a request fails at the transport only when its instance is killed while it is in \
             flight, yet {}'s failed with no kill: {:?}",
            d.name,
            d.failed
        );
    }
    let claimed: u64 = devs.iter().map(|d| d.stored).sum();
    assert!(
        claimed <= new.len() as u64,
        "the answers say {claimed} changes were newly stored, more than the {} the log gained: \
         a resent change was counted (applied) twice",
        new.len()
    );

    // The stored documents agree with the change log.
    let docs: Vec<(String, Vec<u8>)> = query(&db, "SELECT doc_id, bytes FROM docs", |r| {
        (r.get(0), r.get(1))
    });
    let mut relay_heads = BTreeMap::new();
    for (doc_id, bytes) in docs {
        let mut d = AutoCommit::load(&bytes).expect("a stored document loads");
        let held: BTreeSet<Vec<u8>> = hashes(&mut d).into_iter().collect();
        assert_eq!(
            Some(&held),
            stored.get(&doc_id),
            "the stored document {doc_id} holds exactly its changes in the change log"
        );
        relay_heads.insert(doc_id, d.get_heads());
    }

    // Every device converged, and its feed reads the same through A and through B.
    for d in &mut devs {
        assert_eq!(d.dev.cursor, head, "{}'s cursor reached the head", d.name);
        let through_a = read_feed(&d.dev.client, &shared.urls[A], d.name).await;
        let through_b = read_feed(&d.dev.client, &shared.urls[B], d.name).await;
        assert_eq!(
            through_a.len(),
            through_b.len(),
            "{}'s feed has as many pages through A as through B",
            d.name
        );
        for (page, (pa, pb)) in through_a.iter().zip(&through_b).enumerate() {
            assert!(
                pa == pb,
                "page {page} of {}'s feed from cursor 0 is the same through A and through B \
                 (one database): A {:?} docs / cursor {}, B {:?} docs / cursor {}",
                d.name,
                pa.docs
                    .iter()
                    .map(|m| m.doc.to_string())
                    .collect::<Vec<_>>(),
                pa.cursor,
                pb.docs
                    .iter()
                    .map(|m| m.doc.to_string())
                    .collect::<Vec<_>>(),
                pb.cursor
            );
        }
        let mut fresh: BTreeMap<DocId, (AutoCommit, PeerState)> = BTreeMap::new();
        for page in &through_a {
            for m in &page.docs {
                let (doc, st) = fresh.entry(m.doc.clone()).or_default();
                device::incoming(&m.doc, doc, st, &m.message).expect("feed messages apply");
            }
        }
        assert_eq!(
            fresh.keys().collect::<Vec<_>>(),
            d.dev.docs.keys().collect::<Vec<_>>(),
            "{} holds exactly the documents its feed gives ({})",
            d.name,
            d.user
        );
        for (id, (doc, _)) in &mut fresh {
            let mine = d.dev.doc(id);
            let held: BTreeSet<Vec<u8>> = hashes(mine).into_iter().collect();
            assert_eq!(
                Some(&held),
                stored.get(&id.to_string()),
                "{} holds exactly the stored changes of {id}, each once",
                d.name
            );
            assert_eq!(
                mine.get_heads(),
                doc.get_heads(),
                "{} is at the heads its feed gives for {id}",
                d.name
            );
            assert_eq!(
                Some(&doc.get_heads()),
                relay_heads.get(&id.to_string()),
                "{}'s feed gives {id} at the stored document's heads",
                d.name
            );
        }
    }

    // The dispatcher's notes: every edit in once, in order (none lost, none applied twice).
    let disp = devs.last_mut().expect("the dispatcher's device");
    for (id, want) in &notes {
        let o: Order = doc::read(disp.dev.doc(id)).expect("the order reads");
        assert_eq!(
            o.dispatcher_notes.as_str(),
            want,
            "{id}'s notes hold each of the dispatcher's appends once, in order"
        );
    }

    let n = |c: &AtomicUsize| c.load(Ordering::SeqCst);
    println!(
        "instance_kill: {:.1} s; killed {:?} with {in_flight:?} request(s) in flight; answered \
         A {} / B {}, cut A {} / B {}; {} changes made, {} claimed stored by answers ({} \
         committed by requests whose answer was cut); head {head}; answered relay.busy: {:?}; \
         warnings and errors the instances logged: {:?}",
        started.elapsed().as_secs_f64(),
        VICTIMS.map(|v| NAMES[v]),
        n(&shared.answered[A]),
        n(&shared.answered[B]),
        n(&shared.cut[A]),
        n(&shared.cut[B]),
        made.len(),
        claimed,
        new.len() as u64 - claimed,
        devs.iter()
            .flat_map(|d| d.busy.iter().map(|b| format!("{} {b}", d.name)))
            .collect::<Vec<_>>(),
        instances
            .iter()
            .flat_map(|i| i.complaints.lock().unwrap().clone())
            .collect::<Vec<_>>(),
    );
}
