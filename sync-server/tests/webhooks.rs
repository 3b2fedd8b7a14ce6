//! Signed webhooks from the durable outbox: delivery order per order and retries on the storage
//! with a chosen clock; a receiver on 127.0.0.1 that answers 500 then 200; and the relay binary
//! killed with SIGKILL while a receiver holds the request open.

mod common;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use common::*;
use onsite_domain::order::DispatchStatus;
use onsite_domain::{DocId, HOUR};
use onsite_relay::config::OutboxSettings;
use onsite_relay::outbox::{Attempt, Next, OutboxStore};
use onsite_relay::sender::{Sent, verify};
use onsite_relay::{Config, SqliteStorage};
use onsite_wire::back_office::{
    EVENT_ID_HEADER, EventPayload, SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookEvent,
};

const SECRET: &str = "whsec-test-0123456789abcdef";

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: String,
}

/// A webhook receiver on 127.0.0.1: records every request; answers with the scripted statuses
/// first, then 200 — or, while `hold` is set, never answers.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
    hold: Arc<Mutex<bool>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    r.got.lock().unwrap().push(Received {
        headers,
        body: String::from_utf8(body.to_vec()).expect("a UTF-8 body"),
    });
    if *r.hold.lock().unwrap() {
        std::future::pending::<()>().await;
    }
    let status = r.script.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap()
}

impl Receiver {
    async fn start(self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(self);
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/hook")
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// Poll `f` every 20 ms until it holds, failing after `secs`.
async fn until(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("the request carries {name}"))
}

/// The request's signature verifies with the shared secret.
fn signed(r: &Received) -> bool {
    let ts: i64 = header(&r.headers, TIMESTAMP_HEADER).parse().unwrap();
    verify(
        SECRET.as_bytes(),
        ts,
        &r.body,
        header(&r.headers, SIGNATURE_HEADER),
    )
}

fn kind_of(due_body: &str) -> String {
    let e: WebhookEvent = serde_json::from_str(due_body).expect("an event body");
    e.what.kind().to_owned()
}

#[test]
fn events_of_one_order_go_in_order_and_a_failed_one_holds_the_next_until_it_is_settled() {
    let dir = tempfile::tempdir().unwrap();
    let storage = onsite_testkit::backend::open(dir.path());
    onsite_relay::webhooks::add(storage.as_ref(), "http://127.0.0.1:9/hook", SECRET, DAY).unwrap();
    let seeded = onsite_relay::seed::seed_demo(
        storage.as_ref(),
        &Config::default(),
        PASSWORD,
        4,
        DAY,
        DAY + 8 * HOUR,
    )
    .unwrap();
    let orders = seeded.past_orders.len();
    let t0 = DAY + 9 * HOUR;
    let first = storage.claim_due(t0, 100).unwrap();
    assert_eq!(first.len(), orders, "one delivery per order at a time");
    assert!(
        first.iter().all(|d| kind_of(&d.body) == "record.signed"),
        "the signature comes before the completion it caused"
    );
    assert!(
        storage.claim_due(t0, 100).unwrap().is_empty(),
        "what is in flight is not claimed twice"
    );
    let failed = Sent::Failed {
        status: Some(500),
        error: "500".into(),
    };
    let ok = Sent::Delivered { status: Some(200) };
    let (stuck, rest) = first.split_first().unwrap();
    storage
        .finish_attempt(stuck, &failed, &Next::RetryAt(t0 + 1_000), t0)
        .unwrap();
    for d in rest {
        storage
            .finish_attempt(d, &ok, &Next::Delivered, t0)
            .unwrap();
    }
    let second = storage.claim_due(t0 + 500, 100).unwrap();
    assert_eq!(second.len(), orders - 1, "the other orders' completions go");
    assert!(second.iter().all(|d| kind_of(&d.body) == "order.completed"));
    for d in &second {
        storage
            .finish_attempt(d, &ok, &Next::Delivered, t0 + 500)
            .unwrap();
    }
    let retry = storage.claim_due(t0 + 1_000, 100).unwrap();
    assert_eq!(
        retry.len(),
        1,
        "the failed event is retried when due, alone"
    );
    assert_eq!(
        (retry[0].event_id.as_str(), retry[0].attempt),
        (stuck.event_id.as_str(), 2),
        "as its second attempt"
    );
    storage
        .finish_attempt(&retry[0], &failed, &Next::GiveUp, t0 + 1_000)
        .unwrap();
    let after = storage.claim_due(t0 + 1_000, 100).unwrap();
    assert_eq!(
        after.len(),
        1,
        "once it is given up, its order's next event goes"
    );
    assert_eq!(kind_of(&after[0].body), "order.completed");
    let log = storage.delivery_log(None).unwrap();
    let stuck_log: Vec<&Attempt> = log
        .iter()
        .filter(|a| a.event_id == stuck.event_id)
        .collect();
    assert_eq!(
        stuck_log
            .iter()
            .map(|a| (a.attempt, a.outcome.as_str()))
            .collect::<Vec<_>>(),
        [(1, "failed"), (2, "failed")],
        "one log row per attempt"
    );
}

fn fast_outbox() -> OutboxSettings {
    OutboxSettings {
        retry_base_ms: 50,
        retry_max_ms: 200,
        timeout_secs: 5,
        ..OutboxSettings::default()
    }
}

#[tokio::test]
async fn a_500_then_a_200_is_one_delivered_event_with_two_attempts_and_a_valid_signature() {
    let receiver = Receiver::default();
    receiver.script.lock().unwrap().push_back(500);
    let hook = receiver.clone().start().await;
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay_with(Config {
        outbox: fast_outbox(),
        ..Config::for_database(onsite_testkit::backend::database(dir.path()))
    })
    .await;
    seed(&relay);
    onsite_relay::webhooks::add(relay.storage.as_ref(), &hook, SECRET, DAY).unwrap();
    let mut disp = Device::sign_in(&relay.url(), "disp").await;
    disp.sync().await;
    let order = DocId::Order("o-00001".into());
    disp.edit_order(&order, |o| {
        o.set_status(DispatchStatus::Cancelled, "customer moved", DAY + 9 * HOUR)
            .unwrap()
    })
    .await;
    let delivered = |log: &[Attempt]| log.iter().filter(|a| a.outcome == "delivered").count();
    let storage = relay.storage.clone();
    until(10, "the event is delivered", || {
        delivered(&storage.delivery_log(Some(1)).unwrap()) == 1
    })
    .await;
    let got = receiver.got();
    assert_eq!(got.len(), 2, "a 500, then the retry");
    assert!(got.iter().all(signed), "every request's signature verifies");
    assert_eq!(
        header(&got[0].headers, EVENT_ID_HEADER),
        header(&got[1].headers, EVENT_ID_HEADER),
        "the retry is the same event"
    );
    let event: WebhookEvent = serde_json::from_str(&got[1].body).unwrap();
    assert_eq!(
        event.what,
        EventPayload::OrderCancelled {
            reason: "customer moved".into()
        }
    );
    assert_eq!(
        (event.order_id.as_str(), event.order_no.as_str()),
        ("o-00001", "WO-00001")
    );
    let log = storage.delivery_log(Some(1)).unwrap();
    assert_eq!(
        log.iter()
            .map(|a| (a.attempt, a.outcome.as_str(), a.http_status))
            .collect::<Vec<_>>(),
        [(1, "failed", Some(500)), (2, "delivered", Some(200))],
        "two attempts logged, one delivery"
    );
    relay.stop().await;
}

/// The relay binary serving `db` with `config` on `addr`.
fn serve(db: &std::path::Path, config: &std::path::Path, addr: SocketAddr) -> Child {
    Command::new(env!("CARGO_BIN_EXE_onsite-relay"))
        .arg("--config")
        .arg(config)
        .arg("--database")
        .arg(db)
        .args(["serve", "--listen", &addr.to_string()])
        .spawn()
        .expect("the relay binary starts")
}

fn cli(db: &std::path::Path, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_onsite-relay"))
        .arg("--database")
        .arg(db)
        .args(args)
        .output()
        .expect("the binary runs");
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

#[tokio::test]
async fn a_relay_killed_mid_delivery_delivers_after_restart_losing_and_doubling_nothing() {
    let receiver = Receiver::default();
    *receiver.hold.lock().unwrap() = true;
    let hook = receiver.clone().start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("relay.sqlite3");
    let config = dir.path().join("relay.toml");
    std::fs::write(
        &config,
        "[outbox]\nretry_base_ms = 50\nretry_max_ms = 200\ntimeout_secs = 5\n",
    )
    .unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
    let pw = dir.path().join("pw.txt");
    std::fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
    let added = cli(
        &db,
        &[
            "webhook",
            "add",
            &hook,
            "--secret-file",
            secret.to_str().unwrap(),
        ],
    );
    assert!(added.contains("added webhook 1"), "{added}");
    // The seed's completed past orders are committed with the webhook registered: their events
    // wait in the outbox before the relay ever serves.
    cli(
        &db,
        &[
            "seed",
            "--password-file",
            pw.to_str().unwrap(),
            "--orders",
            "4",
        ],
    );

    let addr = free_port();
    let mut relay = serve(&db, &config, addr);
    wait_healthy(&format!("http://{addr}")).await;
    until(10, "the receiver holds a request", || {
        !receiver.got().is_empty()
    })
    .await;
    relay.kill().expect("SIGKILL");
    relay.wait().unwrap();
    let held: Vec<String> = receiver
        .got()
        .iter()
        .map(|r| header(&r.headers, EVENT_ID_HEADER).to_owned())
        .collect();

    *receiver.hold.lock().unwrap() = false;
    let addr = free_port();
    let mut relay = serve(&db, &config, addr);
    wait_healthy(&format!("http://{addr}")).await;
    let events: i64 = {
        let c = rusqlite::Connection::open(&db).unwrap();
        // The webhook's events (customer messages have a unique key and go elsewhere).
        c.query_row(
            "SELECT COUNT(*) FROM outbox_events WHERE unique_key IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert!(
        events >= 4,
        "completions and signatures of the seeded past orders"
    );
    let storage = SqliteStorage::open(&db).unwrap();
    let delivered_per_event = |log: &[Attempt]| {
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for a in log.iter().filter(|a| a.outcome == "delivered") {
            *m.entry(a.event_id.clone()).or_default() += 1;
        }
        m
    };
    until(20, "every event is delivered after the restart", || {
        delivered_per_event(&storage.delivery_log(Some(1)).unwrap()).len() == events as usize
    })
    .await;
    relay.kill().unwrap();
    relay.wait().unwrap();

    let log = storage.delivery_log(Some(1)).unwrap();
    assert!(
        delivered_per_event(&log).values().all(|n| *n == 1),
        "no event is recorded as delivered twice"
    );
    for id in &held {
        let tries: Vec<(u32, &str)> = log
            .iter()
            .filter(|a| &a.event_id == id)
            .map(|a| (a.attempt, a.outcome.as_str()))
            .collect();
        assert_eq!(
            tries,
            [(1, "interrupted"), (2, "delivered")],
            "the cut attempt is logged as such and the event sent again ({id})"
        );
    }
    let got = receiver.got();
    assert!(got.iter().all(signed), "every request is signed");
    let mut received: BTreeMap<String, usize> = BTreeMap::new();
    for r in &got {
        *received
            .entry(header(&r.headers, EVENT_ID_HEADER).to_owned())
            .or_default() += 1;
    }
    assert_eq!(received.len(), events as usize, "nothing lost");
    for (id, n) in &received {
        let want = if held.contains(id) { 2 } else { 1 };
        assert_eq!(
            *n, want,
            "{id}: the receiver dedups the one resend by event id"
        );
    }
    let listing = cli(&db, &["webhook", "deliveries", "1"]);
    assert!(
        listing.contains("interrupted") && listing.contains("delivered"),
        "the CLI shows the log: {listing}"
    );
}

/// The shell block of docs/webhooks.md marked `# verify-onsite-webhook`.
fn documented_snippet() -> String {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/webhooks.md"))
        .expect("docs/webhooks.md");
    let start = doc
        .find("```sh\n# verify-onsite-webhook\n")
        .expect("the verification block");
    let block = &doc[start + "```sh\n".len()..];
    block[..block.find("```").expect("the block ends")].to_owned()
}

fn run_snippet(dir: &std::path::Path, ts: i64, sig: &str, body: &str) -> String {
    std::fs::write(dir.join("body.json"), body).unwrap();
    let o = Command::new("bash")
        .arg("-c")
        .arg(documented_snippet())
        .current_dir(dir)
        .env("SECRET", SECRET)
        .env("TS", ts.to_string())
        .env("SIG", sig)
        .output()
        .expect("bash runs");
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

#[test]
fn the_documented_openssl_snippet_accepts_a_relay_signature_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let body = r#"{"id":"evt_1","kind":"order.cancelled","payload":{"reason":"客户搬家"},"order_id":"o-1","order_no":"WO-1","occurred_at_ms":1}"#;
    let sig = onsite_relay::sender::signature(SECRET.as_bytes(), now, body);
    assert_eq!(
        run_snippet(dir.path(), now, &sig, body),
        "valid",
        "the relay's signature verifies"
    );
    assert_eq!(
        run_snippet(dir.path(), now, &sig, &body.replace("o-1", "o-2")),
        "INVALID",
        "a changed body does not"
    );
    let old = now - 3_600;
    let old_sig = onsite_relay::sender::signature(SECRET.as_bytes(), old, body);
    assert_eq!(
        run_snippet(dir.path(), old, &old_sig, body),
        "INVALID",
        "an hour-old request is refused as a replay"
    );
}

#[tokio::test]
async fn signing_completion_cancellation_and_conflict_are_derived_at_commit_in_order_per_order() {
    let receiver = Receiver::default();
    let hook = receiver.clone().start().await;
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay_with(Config {
        outbox: fast_outbox(),
        ..Config::for_database(onsite_testkit::backend::database(dir.path()))
    })
    .await;
    seed(&relay);
    onsite_relay::webhooks::add(relay.storage.as_ref(), &hook, SECRET, DAY).unwrap();
    let mut a = Device::sign_in(&relay.url(), "tech.a").await;
    a.sync().await;
    let mut disp = Device::sign_in(&relay.url(), "disp").await;
    disp.sync().await;
    let done = DocId::Order("o-00000".into());
    a.sign_job(&done, "tech.a", DAY + 9 * HOUR).await;
    disp.sync().await;
    // Cancelling a completed order is a conflict for review, not a cancellation.
    disp.edit_order(&done, |o| {
        o.set_status(DispatchStatus::Cancelled, "duplicate", DAY + 11 * HOUR)
            .unwrap()
    })
    .await;
    disp.edit_order(&DocId::Order("o-00002".into()), |o| {
        o.set_status(DispatchStatus::Cancelled, "customer moved", DAY + 11 * HOUR)
            .unwrap()
    })
    .await;
    // A commit that changes nothing the events are about announces nothing.
    disp.edit_order(&DocId::Order("o-00002".into()), |o| {
        o.status_reason = "moved away".into()
    })
    .await;
    until(10, "four events arrive", || receiver.got().len() >= 4).await;
    let events: Vec<WebhookEvent> = receiver
        .got()
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    let of = |order: &str| -> Vec<String> {
        events
            .iter()
            .filter(|e| e.order_id == order)
            .map(|e| match &e.what {
                EventPayload::OrderConflict { conflict } => {
                    format!("order.conflict:{}", conflict.code().as_str())
                }
                other => other.kind().to_owned(),
            })
            .collect()
    };
    assert_eq!(
        of("o-00000"),
        [
            "record.signed",
            "order.completed",
            "order.conflict:cancelled_but_completed"
        ],
        "the signed order's events, in the order they happened"
    );
    assert_eq!(
        of("o-00002"),
        ["order.cancelled"],
        "one cancellation, not two"
    );
    let queued = onsite_testkit::backend::sql(
        dir.path(),
        "SELECT COUNT(*) FROM deliveries WHERE destination = 'webhook:1'",
    );
    assert_eq!(
        (events.len(), queued),
        (4, 4),
        "nothing else was sent or queued: {events:?}"
    );
    relay.stop().await;
}

// The same behaviour on PostgreSQL (the tests not listed run the relay's command line on a
// SQLite file, or read it directly).
onsite_testkit::on_postgres!(
    events_of_one_order_go_in_order_and_a_failed_one_holds_the_next_until_it_is_settled,
    a_500_then_a_200_is_one_delivered_event_with_two_attempts_and_a_valid_signature,
    signing_completion_cancellation_and_conflict_are_derived_at_commit_in_order_per_order,
);
