//! Maintenance reminders computed by the relay from its documents and sent once through the
//! customer-message sender (here a gateway on 127.0.0.1 that checks the signature).

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use common::*;
use onsite_domain::HOUR;
use onsite_relay::config::{MessageSender, OutboxSettings};
use onsite_relay::outbox::{Next, Outbox};
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
    let relay = start_relay(dir.path()).await;
    seed(&relay);
    // Three years on, every demo appliance with a maintenance interval is due. The outbox is
    // driven here at that time (its clock is a parameter); the relay's own task lives in 2026.
    let later = DAY + 3 * 365 * 24 * HOUR;
    let due = reminders::due(relay.storage.as_ref(), later).unwrap();
    assert!(
        !due.is_empty(),
        "the demo households have appliances due for maintenance"
    );
    let first = reminders::enqueue_due(relay.storage.as_ref(), later).unwrap();
    assert_eq!(first, due.len(), "each due reminder is enqueued");
    assert_eq!(
        reminders::enqueue_due(relay.storage.as_ref(), later + HOUR).unwrap(),
        0,
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
    let keys: BTreeSet<String> = due.iter().map(|(r, _)| format!("rem_{}", r.key)).collect();
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

// The same behaviour on PostgreSQL.
onsite_testkit::on_postgres!(
    due_reminders_are_sent_once_each_through_the_gateway_however_often_they_are_computed,
);
