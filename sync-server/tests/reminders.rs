//! Maintenance reminders computed by the relay from its documents and sent once through the
//! customer-message sender (here a gateway on 127.0.0.1 that checks the signature); each pass
//! looks only at the households a commit marked or whose next reminder came due.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use common::*;
use onsite_domain::household::Household;
use onsite_domain::order::Order;
use onsite_domain::reminder::{self, Reminder};
use onsite_domain::service::ServiceSettings;
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, HOUR, Millis, doc};
use onsite_relay::RunningRelay;
use onsite_relay::config::{Config, MessageSender, OutboxSettings};
use onsite_relay::outbox::{Next, Outbox};
use onsite_relay::seed;
use onsite_relay::{reminders, webhooks};
use onsite_wire::back_office::{CustomerMessage, SIGNATURE_HEADER, TIMESTAMP_HEADER};

const SECRET: &str = "gateway-secret-0123456789";

type Got = Arc<Mutex<Vec<(HeaderMap, String)>>>;

async fn gateway(State(got): State<Got>, headers: HeaderMap, body: Bytes) -> StatusCode {
    got.lock()
        .unwrap()
        .push((headers, String::from_utf8(body.to_vec()).unwrap()));
    StatusCode::OK
}

async fn start_gateway(got: Got) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/sms", axum::routing::post(gateway))
        .with_state(got);
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/sms")
}

/// A relay whose own reminders task is off: its passes at today's date would take the marks and
/// reminders the tests look at (the tests drive the passes at their own times).
async fn start_relay_driven(dir: &std::path::Path) -> RunningRelay {
    let mut config = Config::for_database(onsite_testkit::backend::database(dir));
    config.outbox.reminders_every_secs = 0;
    start_relay_with(config).await
}

#[tokio::test]
async fn due_reminders_are_sent_once_each_through_the_gateway_however_often_they_are_computed() {
    let got: Got = Arc::default();
    let url = start_gateway(got.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("gateway-secret.txt");
    std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
    let settings = OutboxSettings {
        messages: MessageSender::Webhook,
        messages_url: Some(url),
        messages_secret_file: Some(secret),
        ..OutboxSettings::default()
    };
    let relay = start_relay_driven(dir.path()).await;
    seed(&relay);
    // Three years on, every demo appliance with a maintenance interval is due. The outbox is
    // driven here at that time (its clock is a parameter); the relay's own task lives in 2026.
    let later = DAY + 3 * 365 * 24 * HOUR;
    let due = reminders::enqueue_due(relay.storage.as_ref(), later)
        .unwrap()
        .enqueued;
    assert!(
        !due.is_empty(),
        "the demo households have appliances due for maintenance"
    );
    assert_eq!(
        reminders::enqueue_due(relay.storage.as_ref(), later + HOUR).unwrap(),
        reminders::Pass::default(),
        "computing again enqueues nothing twice"
    );
    let outbox = Outbox {
        storage: relay.storage.clone(),
        messages: webhooks::message_sender(&settings).expect("the gateway sender"),
        client: onsite_relay::sender::http_client(Duration::from_secs(5)),
        policy: settings.policy(),
        clock: Arc::new(move || later + HOUR),
    };
    for _ in 0..20 {
        let claimed = outbox.claim(16).await.unwrap();
        if claimed.is_empty() {
            break;
        }
        for d in claimed {
            assert_eq!(
                outbox.deliver(d).await.unwrap(),
                Next::Delivered,
                "the gateway takes it"
            );
        }
    }
    let keys: BTreeSet<String> = due.iter().map(|r| format!("rem_{}", r.key)).collect();
    let delivered: Vec<String> = relay
        .storage
        .delivery_log(None)
        .unwrap()
        .into_iter()
        .filter(|a| a.destination == "messages" && a.outcome == "delivered")
        .map(|a| a.event_id)
        .collect();
    assert_eq!(
        delivered.iter().cloned().collect::<BTreeSet<_>>(),
        keys,
        "every due reminder was delivered"
    );
    assert_eq!(delivered.len(), keys.len(), "each once");
    let got = got.lock().unwrap().clone();
    let mut ids = BTreeSet::new();
    for (headers, body) in &got {
        let ts: i64 = headers[TIMESTAMP_HEADER].to_str().unwrap().parse().unwrap();
        assert!(
            onsite_relay::sender::verify(
                SECRET.as_bytes(),
                ts,
                body,
                headers[SIGNATURE_HEADER].to_str().unwrap()
            ),
            "the gateway can check every message's signature"
        );
        let m: CustomerMessage = serde_json::from_str(body).expect("a customer message");
        assert_eq!(m.kind, "maintenance.reminder");
        assert!(
            !m.phone.is_empty() && !m.task.is_empty(),
            "{m:?} says whom and what"
        );
        assert!(ids.insert(m.id.clone()), "{} was sent once", m.id);
    }
    assert!(
        keys.is_subset(&ids),
        "every due reminder reached the gateway"
    );
    relay.stop().await;
}

/// The households, orders and visits an admin's device holds, read with the domain's types: what
/// the whole history says, independent of the relay's own reads.
struct Everything {
    settings: ServiceSettings,
    households: Vec<Household>,
    orders: Vec<Order>,
    visits: Vec<Visit>,
}

impl Everything {
    async fn read(base: &str) -> Everything {
        let mut admin = Device::sign_in(base, seed::ADMIN).await;
        admin.sync().await;
        let settings = doc::read(admin.doc(&DocId::ServiceSettings)).expect("settings");
        let all = |kind: fn(&DocId) -> bool| {
            admin
                .docs
                .iter()
                .filter(move |(id, _)| kind(id))
                .map(|(_, (d, _))| d.clone())
        };
        Everything {
            settings,
            households: all(|d| matches!(d, DocId::Household(_)))
                .map(|d| doc::read(&d).expect("a household"))
                .collect(),
            orders: all(|d| matches!(d, DocId::Order(_)))
                .map(|d| doc::read(&d).expect("an order"))
                .collect(),
            visits: all(|d| matches!(d, DocId::Visit { .. }))
                .map(|d| doc::read(&d).expect("a visit"))
                .collect(),
        }
    }

    fn due(&self, now: Millis) -> Vec<String> {
        let due = reminder::due(
            &self.settings,
            &self.households,
            &self.orders,
            &self.visits,
            now,
            reminders::UTC_OFFSET_MS,
        );
        keys(&due)
    }

    fn open(&self) -> Vec<Millis> {
        reminder::open(
            &self.settings,
            &self.households,
            &self.orders,
            &self.visits,
            reminders::UTC_OFFSET_MS,
        )
        .iter()
        .map(|r| r.due_at_ms)
        .collect()
    }
}

fn keys(rs: &[Reminder]) -> Vec<String> {
    let mut keys: Vec<String> = rs.iter().map(|r| r.key.clone()).collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn a_pass_reads_only_the_households_a_commit_marked_or_whose_next_reminder_came_due() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay_driven(dir.path()).await;
    seed(&relay);
    let store = relay.storage.as_ref();
    let all = Everything::read(&relay.url()).await;
    let households = all.households.len();
    // The first two distinct due instants of the demo's open reminders.
    let mut times = all.open();
    times.dedup();
    let [t1, t2, ..] = times[..] else {
        panic!("the demo has reminders coming due at two different times: {times:?}")
    };

    let first = reminders::enqueue_due(store, t1).unwrap();
    assert_eq!(
        first.checked, households,
        "every household is marked by the commit that stored it"
    );
    assert_eq!(
        keys(&first.enqueued),
        all.due(t1),
        "the pass enqueues what the whole history says is due"
    );
    assert_eq!(
        reminders::enqueue_due(store, t2 - 1).unwrap(),
        reminders::Pass::default(),
        "nothing marked, nothing come due: no household read"
    );
    let second = reminders::enqueue_due(store, t2).unwrap();
    assert!(
        second.checked >= 1 && second.checked < households,
        "only the households whose next reminder came due at t2 are read, not {}",
        second.checked
    );
    let mut so_far = first.enqueued.clone();
    so_far.extend(second.enqueued.clone());
    assert_eq!(keys(&so_far), all.due(t2), "and the rest of t2's come out");

    let later = t2 + 3 * 365 * 24 * HOUR;
    so_far.extend(reminders::enqueue_due(store, later).unwrap().enqueued);
    assert_eq!(keys(&so_far), all.due(later), "each once, none missed");
    assert_eq!(
        reminders::enqueue_due(store, later + HOUR).unwrap(),
        reminders::Pass::default(),
        "all enqueued and none to come: nothing read"
    );

    // A commit that writes a household marks it, and only it.
    let mut disp = Device::sign_in(&relay.url(), seed::DISPATCHER).await;
    disp.sync().await;
    let h = DocId::Household(all.households[0].household_id.clone());
    let mut household: Household = doc::read(disp.doc(&h)).unwrap();
    household.name.push_str(" (new name)");
    doc::write(disp.doc(&h), &household).unwrap();
    disp.sync().await;
    let marked = reminders::enqueue_due(store, later + 2 * HOUR).unwrap();
    assert_eq!(
        (marked.checked, marked.enqueued.len()),
        (1, 0),
        "the edited household is read again; its reminders were enqueued already"
    );

    // New maintenance intervals concern every household.
    let mut admin = Device::sign_in(&relay.url(), seed::ADMIN).await;
    admin.sync().await;
    let mut settings = all.settings.clone();
    for m in &mut settings.maintenance {
        m.months += 1;
    }
    doc::write(admin.doc(&DocId::ServiceSettings), &settings).unwrap();
    admin.sync().await;
    let moved = reminders::enqueue_due(store, later + 3 * HOUR).unwrap();
    assert_eq!(
        moved.checked, households,
        "changed intervals: every household is read again"
    );
    assert!(
        !moved.enqueued.is_empty(),
        "the due dates moved, so the reminders are new ones"
    );
    relay.stop().await;
}

#[tokio::test]
async fn the_migration_adding_the_checks_marks_every_stored_household() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay_driven(dir.path()).await;
    seed(&relay);
    let households = Everything::read(&relay.url()).await.households.len();
    relay.stop().await;
    {
        let conn = rusqlite::Connection::open(dir.path().join("relay.sqlite3")).unwrap();
        conn.execute_batch(common::BEFORE_REMINDER_CHECKS).unwrap();
    }
    let relay = start_relay_driven(dir.path()).await;
    let pass = reminders::enqueue_due(relay.storage.as_ref(), DAY).unwrap();
    assert_eq!(
        pass.checked, households,
        "a database from before the checks has every household looked at once"
    );
    relay.stop().await;
}

// The same behaviour on PostgreSQL.
onsite_testkit::on_postgres!(
    due_reminders_are_sent_once_each_through_the_gateway_however_often_they_are_computed,
    a_pass_reads_only_the_households_a_commit_marked_or_whose_next_reminder_came_due,
);
