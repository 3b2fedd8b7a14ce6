//! End-to-end tests against a real relay on 127.0.0.1:0: sign-in, access-control matrix, bad
//! input, restart mid-sync, live push.

mod common;

use std::io::Write;
use std::time::Duration;

use automerge::AutoCommit;
use common::*;
use onsite_domain::order::{DispatchStatus, Order};
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, doc, templates};
use onsite_relay::accounts::token_sha256;
use onsite_relay::storage::TokenRecord;
use onsite_sync::device::{self, PeerState};
use onsite_wire::{Capabilities, Code, DocMessage, SyncRequest};
use reqwest::StatusCode;

fn order(n: u32) -> DocId {
    DocId::Order(format!("o-{n:05}"))
}

fn start_visit(dev: &mut Device, order_id: &DocId, tech: &str) -> DocId {
    let o: Order = doc::read(dev.doc(order_id)).unwrap();
    let v = Visit::start(&o, tech, &templates::builtin_library()).unwrap();
    let id = DocId::visit(&o.order_id, tech);
    dev.docs
        .insert(id.clone(), (doc::create(&v).unwrap(), PeerState::new()));
    id
}

fn edit_visit(dev: &mut Device, id: &DocId, f: impl FnOnce(&mut Visit)) {
    let d = dev.doc(id);
    let mut v: Visit = doc::read(d).unwrap();
    f(&mut v);
    doc::write(d, &v).unwrap();
    d.commit();
}

fn edit_order(dev: &mut Device, id: &DocId, f: impl FnOnce(&mut Order)) {
    let d = dev.doc(id);
    let mut o: Order = doc::read(d).unwrap();
    f(&mut o);
    doc::write(d, &o).unwrap();
    d.commit();
}

fn ask(cursor: u64, id: DocId) -> SyncRequest {
    SyncRequest {
        snapshot: None,
        window_days: None,
        cursor,
        docs: vec![DocMessage {
            doc: id,
            message: device::request_missing(),
        }],
        count_remaining: false,
    }
}

#[tokio::test]
async fn capabilities_sign_in_and_first_sync() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    seed(&relay);
    let http = reqwest::Client::new();
    let caps: Capabilities = http
        .get(format!("{}/api/v1/capabilities", relay.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(caps.api_versions, vec![1]);
    assert!(caps.features.contains(&"events".to_string()));

    let bad = http
        .post(format!("{}/api/v1/sign-in", relay.url()))
        .json(&serde_json::json!({"user_id":"tech.a","password":"nope-nope","device_id":"d"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let body: onsite_wire::ErrorBody = bad.json().await.unwrap();
    assert_eq!(body.code, Code::AuthBadCredentials);

    let mut a = Device::sign_in(&relay.url(), "tech.a").await;
    a.sync().await;
    let mut ids: Vec<String> = a.docs.keys().map(ToString::to_string).collect();
    ids.sort();
    // stats: tech.a's half of the statistics' history (the even jobs, numbered 1, 3, …), each
    // with its signed visit.
    let mut want: Vec<String> = (1..=onsite_domain::seed_history::HISTORY_JOBS)
        .step_by(2)
        .flat_map(|n| {
            [
                format!("order:o-hist-{n:03}"),
                format!("visit:o-hist-{n:03}:tech.a"),
            ]
        })
        .collect();
    want.extend(
        [
            "ledger:tech.a",
            "order:o-00000",
            "order:o-00002",
            "order:o-00004",
            "order:o-00006",
            "order:o-hh1-0",
            "order:o-hh1-1",
            "order:o-hh3-0",
            "order:o-hh3-1",
            "profile:tech.a",
            "ref:fees",
            "ref:parts",
            "ref:templates",
            "visit:o-hh1-0:tech.a",
            "visit:o-hh1-1:tech.a",
            "visit:o-hh3-0:tech.a",
            "visit:o-hh3-1:tech.a",
        ]
        .map(str::to_owned),
    );
    want.sort();
    assert_eq!(
        ids, want,
        "tech.a receives exactly what it may read: its orders (today's and next week's), its \
         households' past orders \
         and its history with its signed visits, its profile and ledger, the reference documents (not \
         ref:bonus, not ref:service)"
    );
    relay.stop().await;
}

#[tokio::test]
async fn answers_travel_zstd_compressed_to_a_device_that_takes_it_else_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    seed(&relay);
    let c = sign_in(&relay.url(), "disp", "d-encodings").await;
    // Decoded here, to see what travelled.
    let raw = reqwest::Client::builder()
        .no_gzip()
        .no_zstd()
        .build()
        .unwrap();
    let mut answers = Vec::new();
    for accept in ["gzip, zstd", "gzip", "identity"] {
        let r = raw
            .post(format!("{}/api/v1/sync", relay.url()))
            .bearer_auth(&c.token)
            .header("accept-encoding", accept)
            .json(&SyncRequest::default())
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "a first sync accepting {accept}"
        );
        let encoding = r
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = r.bytes().await.unwrap().to_vec();
        let json = match encoding.as_deref() {
            Some("zstd") => zstd::decode_all(body.as_slice()).unwrap(),
            Some("gzip") => {
                let mut out = Vec::new();
                std::io::Read::read_to_end(
                    &mut flate2::read::GzDecoder::new(body.as_slice()),
                    &mut out,
                )
                .unwrap();
                out
            }
            _ => body.clone(),
        };
        let resp: onsite_wire::SyncResponse = serde_json::from_slice(&json).unwrap();
        answers.push((accept, encoding, body.len(), json.len(), resp.docs.len()));
    }
    let [zstd, gzip, identity] = answers.as_slice() else {
        unreachable!()
    };
    assert_eq!(
        (zstd.1.as_deref(), gzip.1.as_deref(), identity.1.as_deref()),
        (Some("zstd"), Some("gzip"), None),
        "zstd where the device takes it (the app does), else gzip, else as it is: {answers:?}"
    );
    assert!(
        zstd.4 > 0 && zstd.4 == gzip.4 && gzip.4 == identity.4,
        "every encoding carries the same first page: {answers:?}"
    );
    assert!(
        zstd.2 < gzip.2 && gzip.2 < identity.2,
        "zstd sends fewer bytes than gzip, gzip fewer than none: {answers:?}"
    );
}

#[tokio::test]
async fn acl_matrix_refuses_and_leaks_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    seed(&relay);
    let mut a = Device::sign_in(&relay.url(), "tech.a").await;
    let mut b = Device::sign_in(&relay.url(), "tech.b").await;
    a.sync().await;
    b.sync().await;
    let stored = relay.storage.change_count().unwrap();

    // B asks for A's order by id: same answer as for a missing order.
    let theirs = b.client.sync(&ask(b.cursor, order(0))).await.unwrap();
    let missing = b.client.sync(&ask(b.cursor, order(999))).await.unwrap();
    assert_eq!(theirs.rejected[0].code, Code::DocumentNotFound);
    assert_eq!(missing.rejected[0].code, Code::DocumentNotFound);
    assert_eq!(
        theirs.rejected[0].message.replace("o-00000", "X"),
        missing.rejected[0].message.replace("o-00999", "X"),
        "unreadable and missing must be indistinguishable"
    );
    assert!(
        theirs.docs.is_empty() && missing.docs.is_empty(),
        "nothing leaked"
    );

    // A technician writes an order assigned to them: read-only, nothing stored.
    edit_order(&mut a, &order(0), |o| {
        o.set_status(DispatchStatus::Cancelled, "tech tries", 1)
            .unwrap()
    });
    let resp = a.exchange().await.unwrap();
    assert_eq!(resp.rejected.len(), 1);
    assert_eq!(resp.rejected[0].code, Code::AccessReadOnly);
    assert_eq!(
        relay.storage.change_count().unwrap(),
        stored,
        "nothing stored"
    );
    a.docs.remove(&order(0));
    a.cursor = 0;
    a.sync().await;

    // B writes a visit in A's name on A's order: refused as missing, nothing stored.
    let o: Order = doc::read(a.doc(&order(0))).unwrap();
    let forged = Visit::start(&o, "tech.a", &templates::builtin_library()).unwrap();
    let mut fd = doc::create(&forged).unwrap();
    let vid = DocId::visit("o-00000", "tech.a");
    let msg = device::outgoing(&mut fd, &PeerState::new()).unwrap();
    let resp = b
        .client
        .sync(&device::build_request(b.cursor, vec![(vid.clone(), msg)]))
        .await
        .unwrap();
    assert_eq!(resp.rejected[0].code, Code::DocumentNotFound);
    assert_eq!(relay.storage.change_count().unwrap(), stored);
    assert!(
        relay.storage.doc(&vid).unwrap().is_none(),
        "no visit was created"
    );

    // Tokens: forged, missing, expired, revoked.
    let forged = b.client.with_token("ons_forged-token-value");
    let e = forged.sync(&SyncRequest::default()).await.unwrap_err();
    assert_eq!(
        (e.status, e.body.code),
        (StatusCode::UNAUTHORIZED, Code::AuthInvalidToken)
    );
    let (status, body) = b
        .client
        .with_token("")
        .post_raw(b"{}".to_vec(), "application/json", None)
        .await;
    let e = decode(status, &body).unwrap_err();
    assert_eq!(e.body.code, Code::AuthMissingToken);
    let expired = "ons_expired-token-for-test";
    relay
        .storage
        .add_token(&TokenRecord {
            token_sha256: token_sha256(expired),
            user_id: "tech.b".into(),
            device_id: "dev-old".into(),
            created_at_ms: 1,
            expires_at_ms: 2,
            revoked_at_ms: None,
        })
        .unwrap();
    let e = b
        .client
        .with_token(expired)
        .sync(&SyncRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        (e.status, e.body.code),
        (StatusCode::UNAUTHORIZED, Code::AuthTokenExpired)
    );
    relay.storage.revoke_tokens("tech.b", None, 10).unwrap();
    let e = b.client.sync(&SyncRequest::default()).await.unwrap_err();
    assert_eq!(
        (e.status, e.body.code),
        (StatusCode::UNAUTHORIZED, Code::AuthTokenRevoked)
    );

    // Replaying an old request stores nothing twice.
    let vid = start_visit(&mut a, &order(0), "tech.a");
    edit_visit(&mut a, &vid, |v| v.diagnosis = "capacitor".into());
    let req = a.request();
    let first = a.client.sync(&req).await.unwrap();
    assert!(first.stored_changes > 0);
    let after_first = relay.storage.change_count().unwrap();
    a.apply(&first);
    let replay = a.client.sync(&req).await.unwrap();
    assert_eq!(replay.stored_changes, 0, "a replay stores nothing");
    assert_eq!(relay.storage.change_count().unwrap(), after_first);
    relay.stop().await;
}

#[tokio::test]
async fn bad_input_gets_clear_4xx_and_the_relay_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let mut config =
        onsite_relay::Config::for_database(onsite_testkit::backend::database(dir.path()));
    config.max_body_bytes = 64 * 1024;
    config.max_doc_bytes = 8 * 1024;
    let relay = start_relay_with(config).await;
    seed(&relay);
    let mut d = Device::sign_in(&relay.url(), "disp").await;
    d.sync().await;
    let c = d.client.clone();

    let code_of = |(status, body): (StatusCode, Vec<u8>)| {
        let e = decode(status, &body).unwrap_err();
        (e.status, e.body.code)
    };
    // Malformed sync message.
    let junk =
        serde_json::json!({"cursor": 0, "docs": [{"doc": "order:o-00001", "message": "AAECAwQ="}]});
    assert_eq!(
        code_of(
            c.post_raw(serde_json::to_vec(&junk).unwrap(), "application/json", None)
                .await
        ),
        (StatusCode::BAD_REQUEST, Code::SyncMalformedMessage)
    );
    // Not JSON, truncated JSON, malformed doc id.
    for body in [
        b"not json".to_vec(),
        br#"{"cursor": 0, "docs": [{"doc": "order:o-1", "mess"#.to_vec(),
        br#"{"cursor": 0, "docs": [{"doc": "order:../etc", "message": ""}]}"#.to_vec(),
    ] {
        assert_eq!(
            code_of(c.post_raw(body, "application/json", None).await),
            (StatusCode::BAD_REQUEST, Code::RequestMalformed)
        );
    }
    // Wrong content type.
    assert_eq!(
        code_of(c.post_raw(b"{}".to_vec(), "text/plain", None).await),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::RequestUnsupportedContentType
        )
    );
    // Truncated gzip body.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&serde_json::to_vec(&SyncRequest::default()).unwrap())
        .unwrap();
    let full = gz.finish().unwrap();
    assert_eq!(
        code_of(
            c.post_raw(
                full[..full.len() / 2].to_vec(),
                "application/json",
                Some("gzip")
            )
            .await
        ),
        (StatusCode::BAD_REQUEST, Code::RequestBadEncoding)
    );
    // The whole gzip body works.
    let (status, _) = c.post_raw(full, "application/json", Some("gzip")).await;
    assert_eq!(status, StatusCode::OK, "gzip request bodies are accepted");
    // Oversize body, also when it only grows on decompression.
    let big = serde_json::to_vec(
        &serde_json::json!({"cursor": 0, "docs": [], "pad": "x".repeat(200_000)}),
    )
    .unwrap();
    assert_eq!(
        code_of(c.post_raw(big.clone(), "application/json", None).await),
        (StatusCode::PAYLOAD_TOO_LARGE, Code::RequestTooLarge)
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&big).unwrap();
    assert_eq!(
        code_of(
            c.post_raw(gz.finish().unwrap(), "application/json", Some("gzip"))
                .await
        ),
        (StatusCode::PAYLOAD_TOO_LARGE, Code::RequestTooLarge)
    );
    // Oversize document: per-document refusal, nothing stored. Each field is within the
    // domain's text limit; together (random CJK text does not compress) they are over the
    // relay's 8 KiB document limit.
    let stored = relay.storage.change_count().unwrap();
    let mut x: u64 = 88_172_645_463_325_252;
    let mut noise = |n: usize| -> String {
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from_u32(0x4e00 + (x % 0x5000) as u32).unwrap()
            })
            .collect()
    };
    let (problem, notes, address) = (noise(3_500), noise(3_500), noise(3_500));
    edit_order(&mut d, &order(1), |o| {
        o.problem = problem;
        o.customer.notes = notes;
        o.customer.address = address;
    });
    let resp = c.sync(&d.request()).await.unwrap();
    assert_eq!(resp.rejected.len(), 1, "{resp:?}");
    assert_eq!(resp.rejected[0].code, Code::DocumentTooLarge);
    assert_eq!(relay.storage.change_count().unwrap(), stored);
    // One field over the domain's text limit: refused by the same rule the device applies.
    edit_order(&mut d, &order(2), |o| o.problem = "x".repeat(20_000));
    let resp = c.sync(&d.request()).await.unwrap();
    assert!(
        resp.rejected
            .iter()
            .any(|r| r.doc == order(2) && r.code == Code::InputTooLong),
        "{resp:?}"
    );
    assert_eq!(relay.storage.change_count().unwrap(), stored);
    // Unknown document ids answer not_found.
    let resp = c
        .sync(&ask(d.cursor, DocId::Order("o-77777".into())))
        .await
        .unwrap();
    assert_eq!(resp.rejected[0].code, Code::DocumentNotFound);
    // Duplicate documents in one request.
    let dup = SyncRequest {
        snapshot: None,
        window_days: None,
        cursor: 0,
        docs: vec![
            DocMessage {
                doc: order(1),
                message: device::request_missing(),
            },
            DocMessage {
                doc: order(1),
                message: device::request_missing(),
            },
        ],
        count_remaining: false,
    };
    let e = c.sync(&dup).await.unwrap_err();
    assert_eq!(e.body.code, Code::SyncDuplicateDocument);
    // Cursor ahead of the relay.
    let e = c
        .sync(&SyncRequest {
            snapshot: None,
            window_days: None,
            cursor: 1 << 40,
            docs: vec![],
            count_remaining: false,
        })
        .await
        .unwrap_err();
    assert_eq!(
        (e.status, e.body.code),
        (StatusCode::CONFLICT, Code::SyncCursorAhead)
    );
    // Unknown route.
    let r = c
        .http
        .get(format!("{}/api/v2/sync", relay.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Still serving.
    wait_healthy(&relay.url()).await;
    let mut fresh = Device::sign_in(&relay.url(), "tech.a").await;
    fresh.sync().await;
    assert!(fresh.docs.contains_key(&order(0)));
    relay.stop().await;
}

#[tokio::test]
async fn relay_restart_mid_sync_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut config =
        onsite_relay::Config::for_database(onsite_testkit::backend::database(dir.path()));
    config.max_docs_per_response = 3;
    let relay = start_relay_with(config.clone()).await;
    seed(&relay);
    let mut a = Device::sign_in(&relay.url(), "tech.a").await;
    a.sync().await;
    let mut d = Device::sign_in(&relay.url(), "disp").await;
    // Dispatcher is mid-way through a paged catch-up when the relay dies.
    let first = d.exchange().await.unwrap();
    assert!(first.more, "paging leaves more to fetch");
    d.apply(&first);

    // tech.a uploads a completion; the relay commits it, but the answer is lost.
    let vid = start_visit(&mut a, &order(0), "tech.a");
    edit_visit(&mut a, &vid, |v| {
        v.diagnosis = "run capacitor failed".into();
        v.work_performed = "replaced capacitor".into();
    });
    let lost = a.exchange().await.unwrap();
    assert!(lost.stored_changes > 0);
    let count = relay.storage.change_count().unwrap();
    relay.kill();

    let relay = start_relay_with(onsite_relay::Config {
        listen: "127.0.0.1:0".into(),
        ..config
    })
    .await;
    assert_eq!(
        relay.storage.change_count().unwrap(),
        count,
        "committed changes survive"
    );
    a.client.base = relay.url();
    d.client.base = relay.url();
    let again = a.exchange().await.unwrap();
    assert_eq!(
        again.stored_changes, 0,
        "the resent upload duplicates nothing"
    );
    a.apply(&again);
    d.sync().await;
    assert_eq!(relay.storage.change_count().unwrap(), count);

    let v: Visit = doc::read(d.doc(&vid)).unwrap();
    assert_eq!(
        v.work_performed, "replaced capacitor",
        "dispatcher got the completion"
    );
    // Every document on the dispatcher equals the relay's.
    for (id, (doc, _)) in d.docs.iter_mut() {
        let mut relay_doc = AutoCommit::load(&relay.storage.doc(id).unwrap().unwrap()).unwrap();
        assert_eq!(doc.get_heads(), relay_doc.get_heads(), "{id} converged");
    }
    relay.stop().await;
}

#[tokio::test]
async fn push_stream_tells_the_dispatcher_about_a_completion() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    seed(&relay);
    let mut a = Device::sign_in(&relay.url(), "tech.a").await;
    a.sync().await;
    let d = Device::sign_in(&relay.url(), "disp").await;
    let mut stream = d
        .client
        .http
        .get(format!("{}/api/v1/events", relay.url()))
        .bearer_auth(&d.client.token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let head = relay.storage.head_seq().unwrap();

    let vid = start_visit(&mut a, &order(0), "tech.a");
    edit_visit(&mut a, &vid, |v| v.diagnosis = "done".into());
    a.sync().await;
    let new_head = relay.storage.head_seq().unwrap();
    assert!(new_head > head);

    let (found, seen) = common::announces(&mut stream, new_head, Duration::from_secs(10)).await;
    assert!(
        found,
        "dispatcher's stream announces cursor {new_head}; got {seen:?}"
    );
    assert!(seen.contains("event: feed"));
    relay.kill();
}

#[tokio::test]
async fn an_open_push_stream_ends_soon_after_its_token_is_revoked_even_when_nothing_happens() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    seed(&relay);
    let d = Device::sign_in(&relay.url(), "disp").await;
    let mut stream = d
        .client
        .http
        .get(format!("{}/api/v1/events", relay.url()))
        .bearer_auth(&d.client.token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    // Revoked in the database, as `onsite-relay token revoke` from another process does: no
    // commit, no event for the stream to wake on.
    let revoked = relay
        .storage
        .revoke_token(&token_sha256(&d.client.token), 1)
        .unwrap();
    assert!(revoked, "the token was live");
    let mut seen = String::new();
    let ended = tokio::time::timeout(Duration::from_secs(15), async {
        while let Some(chunk) = stream.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream ends by itself; got {seen:?}");
    assert!(
        seen.contains("auth.token_revoked"),
        "it says why before ending: {seen:?}"
    );
    relay.kill();
}

#[tokio::test]
async fn sign_out_and_disabled_accounts_stop_sync() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    seed(&relay);
    let a = sign_in(&relay.url(), "tech.a", "dev-1").await;
    let r = a
        .http
        .post(format!("{}/api/v1/sign-out", relay.url()))
        .bearer_auth(&a.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let e = a.sync(&SyncRequest::default()).await.unwrap_err();
    assert_eq!(
        e.body.code,
        Code::AuthTokenRevoked,
        "a signed-out token is refused"
    );

    let b = sign_in(&relay.url(), "tech.b", "dev-2").await;
    assert!(relay.storage.set_disabled("tech.b", true).unwrap());
    let e = b.sync(&SyncRequest::default()).await.unwrap_err();
    assert_eq!(
        (e.status, e.body.code),
        (StatusCode::FORBIDDEN, Code::AuthAccountDisabled)
    );
    relay.stop().await;
}

#[tokio::test]
async fn order_record_lookup_finds_the_order_and_its_visits_for_the_verify_page() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    seed(&relay);
    let mut a = Device::sign_in(&relay.url(), "tech.a").await;
    a.sync().await;
    let vid = start_visit(&mut a, &order(0), "tech.a");
    edit_visit(&mut a, &vid, |v| v.diagnosis = "ok".into());
    a.sync().await;

    let rec = relay
        .storage
        .order_record("WO-00000")
        .unwrap()
        .expect("seeded order WO-00000 exists");
    assert_eq!(rec.order.doc, order(0));
    assert_eq!(rec.visits.len(), 1);
    assert_eq!(rec.visits[0].doc, vid);
    let v: Visit = doc::read(&AutoCommit::load(&rec.visits[0].bytes).unwrap()).unwrap();
    assert_eq!(v.diagnosis, "ok");
    assert!(relay.storage.order_record("WO-99999").unwrap().is_none());
    relay.stop().await;
}

/// Sign in `user` on `device` and return the relay's whole answer.
async fn sign_in_answer(base: &str, user: &str, device: &str) -> onsite_wire::SignInResponse {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/sign-in"))
        .json(&onsite_wire::SignInRequest {
            user_id: user.into(),
            password: PASSWORD.into(),
            device_id: device.into(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{user} signs in");
    r.json().await.unwrap()
}

#[tokio::test]
async fn a_forged_assignment_from_a_modified_client_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    seed(&relay);
    // An administrator withdraws tech.b's certificate.
    onsite_relay::certificate::withdraw(
        relay.storage.as_ref(),
        &onsite_relay::Config::default().limits(),
        "tech.b",
        onsite_relay::api::now_ms(),
    )
    .unwrap();
    let mut disp = Device::sign_in(&relay.url(), "disp").await;
    disp.sync().await;
    // The modified client writes the assignment straight into the order document: no
    // `Order::assign`, so no qualification check on the device.
    edit_order(&mut disp, &order(0), |o| {
        o.transfers.push(onsite_domain::order::Transfer {
            id: "forged".into(),
            from: o.assignee.clone(),
            to: "tech.b".into(),
            reason: "forged".into(),
            by: "disp".into(),
            at_ms: DAY,
        });
        o.assignee = Some("tech.b".into());
    });
    edit_order(&mut disp, &order(1), |o| {
        o.problem.push_str(" (gate code 1234)")
    });
    let resp = disp.exchange().await.expect("the request itself is fine");
    assert_eq!(resp.rejected.len(), 1, "{:?}", resp.rejected);
    let r = &resp.rejected[0];
    assert_eq!(
        (&r.doc, r.code),
        (&order(0), Code::AssignmentNotQualified),
        "{}",
        r.message
    );
    assert!(
        r.message.contains("withdrawn"),
        "names the reason: {}",
        r.message
    );
    disp.apply(&resp);

    let stored: Order =
        doc::read(&AutoCommit::load(&relay.storage.doc(&order(0)).unwrap().unwrap()).unwrap())
            .unwrap();
    assert_eq!(
        stored.assignee.as_deref(),
        Some("tech.a"),
        "nothing of the forged assignment was stored"
    );
    let fixed: Order =
        doc::read(&AutoCommit::load(&relay.storage.doc(&order(1)).unwrap().unwrap()).unwrap())
            .unwrap();
    assert!(
        fixed.problem.ends_with("(gate code 1234)"),
        "the rest of the request was stored"
    );
    let mut b = Device::sign_in(&relay.url(), "tech.b").await;
    b.sync().await;
    assert!(
        !b.docs.contains_key(&order(0)),
        "tech.b never sees the order it was not assigned"
    );
    relay.stop().await;
}

#[tokio::test]
async fn order_numbers_stay_unique_and_verify_resolves_exactly_one_order() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    seed(&relay);
    let url = relay.url();

    // Each device gets its own prefix, the same at every sign-in; a technician also gets the
    // link of their certificate page.
    let p1 = sign_in_answer(&url, "disp", "dev-disp-1").await;
    let p2 = sign_in_answer(&url, "disp", "dev-disp-2").await;
    assert_ne!(
        p1.order_prefix, p2.order_prefix,
        "two devices, two prefixes"
    );
    assert!(
        (2..=6).contains(&p1.order_prefix.len())
            && p1
                .order_prefix
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
        "[A-Z0-9]{{2,6}}: {}",
        p1.order_prefix
    );
    let again = sign_in_answer(&url, "admin", "dev-disp-1").await;
    assert_eq!(again.order_prefix, p1.order_prefix, "stable per device");
    assert_eq!(p1.certificate_path, None, "a dispatcher has no certificate");
    let tech = sign_in_answer(&url, "tech.a", "dev-tech.a").await;
    assert!(
        tech.certificate_path
            .as_deref()
            .is_some_and(|p| p.starts_with("/verify/cert/CERT-HA-0001/")),
        "{:?}",
        tech.certificate_path
    );

    // Two dispatchers create orders offline at the same time, numbered with their prefixes;
    // a third reuses an existing number.
    let mut d1 = Device::sign_in(&url, "disp").await;
    d1.client = sign_in(&url, "disp", "dev-disp-1").await;
    d1.sync().await;
    let new_order = |id: &str, no: &str| {
        let mut new = onsite_domain::seed::order(7, DAY);
        new.order_id = id.into();
        new.order_no = no.into();
        let o = Order::create(new, &onsite_domain::sla::SlaPolicy::default(), DAY).unwrap();
        (DocId::Order(id.into()), doc::create(&o).unwrap())
    };
    let mut d2 = Device::sign_in(&url, "disp").await;
    d2.client = sign_in(&url, "disp", "dev-disp-2").await;
    d2.sync().await;
    for (dev, id, prefix) in [
        (&mut d1, "o-new-1", &p1.order_prefix),
        (&mut d2, "o-new-2", &p2.order_prefix),
    ] {
        let (doc_id, d) = new_order(id, &format!("WO-20261203-{prefix}-0001"));
        dev.docs.insert(doc_id, (d, PeerState::new()));
    }
    let (dup_id, dup) = new_order("o-dup", "WO-00001");
    d2.docs.insert(dup_id.clone(), (dup, PeerState::new()));
    d1.sync().await;
    let resp = d2.exchange().await.unwrap();
    assert_eq!(resp.rejected.len(), 1, "{:?}", resp.rejected);
    assert_eq!(
        (&resp.rejected[0].doc, resp.rejected[0].code),
        (&dup_id, Code::OrderDuplicateNumber),
        "{}",
        resp.rejected[0].message
    );
    let s = &relay.storage;
    for no in [
        format!("WO-20261203-{}-0001", p1.order_prefix),
        format!("WO-20261203-{}-0001", p2.order_prefix),
    ] {
        assert!(s.order_record(&no).unwrap().is_some(), "{no} was stored");
    }
    assert_eq!(
        s.order_record("WO-00001").unwrap().unwrap().order.doc,
        order(1),
        "the number still resolves to its one order"
    );

    // A number two orders share (stored before the relay refused duplicates) verifies nothing.
    drop(d1);
    onsite_testkit::backend::sql(
        dir.path(),
        "UPDATE docs SET order_no = 'WO-00001' WHERE doc_id = 'order:o-00002'",
    );
    assert!(
        s.order_record("WO-00001").unwrap().is_none(),
        "an ambiguous number resolves to no order"
    );
    relay.stop().await;
}

// The same behaviour on PostgreSQL.
onsite_testkit::on_postgres!(
    capabilities_sign_in_and_first_sync,
    acl_matrix_refuses_and_leaks_nothing,
    bad_input_gets_clear_4xx_and_the_relay_keeps_serving,
    relay_restart_mid_sync_loses_and_duplicates_nothing,
    push_stream_tells_the_dispatcher_about_a_completion,
    an_open_push_stream_ends_soon_after_its_token_is_revoked_even_when_nothing_happens,
    sign_out_and_disabled_accounts_stop_sync,
    order_record_lookup_finds_the_order_and_its_visits_for_the_verify_page,
    a_forged_assignment_from_a_modified_client_is_refused,
    order_numbers_stay_unique_and_verify_resolves_exactly_one_order,
);
