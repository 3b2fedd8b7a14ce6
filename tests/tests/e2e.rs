//! End to end against a real relay on 127.0.0.1:0: a dispatcher and two technicians, offline
//! completion, concurrent edits on both sides, reassignment, cancel-vs-complete, a relay restart
//! with nothing lost or duplicated, and a revoked token that keeps local work.

use std::time::Duration;

use onsite_domain::order::{DispatchStatus, Order};
use onsite_domain::progress::ProgressKind;
use onsite_domain::reference::TechnicianProfile;
use onsite_domain::status::{Conflict, EffectiveStatus};
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, HOUR, record, seed, seed_history};
use onsite_store::VisitVerification;
use onsite_testkit::DAY;
use onsite_testkit::relay::{ORDERS, Seeded};
use onsite_tests::Device;

const LIMIT: Duration = Duration::from_secs(120);

fn order_id(n: u32) -> String {
    format!("o-{n:05}")
}

async fn bounded<F: std::future::Future<Output = ()>>(f: F) {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("test finished in time");
}

#[tokio::test]
async fn offline_completion_reaches_the_dispatcher_with_concurrent_edits_merged() {
    bounded(async {
        let s = Seeded::start().await;
        let url = s.url.clone();
        let disp = Device::sign_in(&url, "disp").await;
        let tech = Device::sign_in(&url, "tech.a").await;
        disp.sync().await.unwrap();
        tech.sync().await.unwrap();

        let mut mine = tech.order_ids();
        mine.sort();
        let past = |h: u32| (0..seed::PAST_ORDERS).map(move |k| format!("o-hh{h}-{k}"));
        let mut expected = vec![order_id(0), order_id(2), order_id(4), order_id(ORDERS)];
        expected.extend(past(1).chain(past(3)));
        // stats: tech.a's half of the statistics' history (the even jobs, numbered 1, 3, …).
        let history = seed_history::HISTORY_JOBS;
        expected.extend((1..=history).step_by(2).map(|n| format!("o-hist-{n:03}")));
        assert_eq!(
            mine, expected,
            "tech.a holds exactly the orders assigned to them: today's, next week's, their households' past ones and their history"
        );
        assert_eq!(
            disp.order_ids().len() as u32,
            ORDERS + seed::UPCOMING_ORDERS + 4 * seed::PAST_ORDERS + history,
            "the dispatcher holds every order"
        );

        // Offline: the technician completes the job while the dispatcher edits the same order.
        let now = DAY + 9 * HOUR;
        let visit = tech.complete_job(&order_id(0), now);
        assert!(visit.is_signed());
        let oid = DocId::Order(order_id(0));
        disp.with_store(|s| {
            s.update::<Order, _>(&oid, |o| {
                o.customer.notes = "gate code changed to 4321#".into();
                Ok(())
            })
        })
        .unwrap();

        disp.sync().await.unwrap();
        let up = tech.sync().await.unwrap();
        assert!(
            up.round_trips <= 3,
            "upload of a completion takes few round trips, took {}",
            up.round_trips
        );
        assert_eq!(
            tech.with_store(|s| s.pending_count().unwrap()),
            0,
            "everything acknowledged"
        );
        let got = disp.sync().await.unwrap();
        assert!(got.docs_received >= 1, "the dispatcher received the visit");

        let vid = DocId::visit(&order_id(0), "tech.a");
        let received: Visit = disp
            .with_store(|s| s.read(&vid))
            .expect("dispatcher holds the completed visit");
        assert_eq!(
            received, visit,
            "the dispatcher sees exactly what the technician signed"
        );
        let order: Order = disp.with_store(|s| s.read(&oid)).unwrap();
        assert_eq!(
            order.customer.notes, "gate code changed to 4321#",
            "the dispatcher's concurrent edit survived"
        );
        assert!(
            record::verify(&order, &received).is_valid(),
            "the signed record verifies at the dispatcher"
        );
        let row = disp
            .with_store(|s| s.order_row(&order_id(0)))
            .unwrap()
            .unwrap();
        assert_eq!(row.effective_status, EffectiveStatus::Completed);
        assert!(row.conflicts.is_empty(), "no conflict: {:?}", row.conflicts);
        let visits = disp
            .with_store(|s| s.visits_of_order(&order_id(0)))
            .unwrap();
        assert_eq!(visits[0].verification, VisitVerification::Valid);
        // And the technician got the dispatcher's edit.
        let techs_order: Order = tech.with_store(|s| s.read(&oid)).unwrap();
        assert_eq!(techs_order.customer.notes, order.customer.notes);
        s.stop().await;
    })
    .await;
}

#[tokio::test]
async fn reassignment_moves_the_order_and_keeps_the_old_visit() {
    bounded(async {
        let s = Seeded::start().await;
        let url = s.url.clone();
        let disp = Device::sign_in(&url, "disp").await;
        let a = Device::sign_in(&url, "tech.a").await;
        let b = Device::sign_in(&url, "tech.b").await;
        for d in [&disp, &a, &b] {
            d.sync().await.unwrap();
        }
        let o = order_id(2);
        // tech.a arrives on site (offline) and syncs the visit.
        a.with_store(|s| {
            s.start_visit(&o, "tech.a").unwrap();
            s.apply_visit_edit(
                &o,
                "tech.a",
                onsite_domain::edit::VisitEdit::Progress {
                    id: "arr".into(),
                    kind: ProgressKind::Arrived,
                },
                DAY + 9 * HOUR,
            )
            .unwrap();
        });
        a.sync().await.unwrap();
        // The dispatcher reassigns (转派) to tech.b.
        let profile_b: TechnicianProfile = disp
            .with_store(|s| s.read(&DocId::Profile("tech.b".into())))
            .unwrap();
        disp.with_store(|s| {
            s.update::<Order, _>(&DocId::Order(o.clone()), |ord| {
                ord.assign(
                    "re-1",
                    &profile_b,
                    "tech.a's van broke down",
                    "disp",
                    DAY + 10 * HOUR,
                )
            })
        })
        .unwrap();
        disp.sync().await.unwrap();

        let report = a.sync().await.unwrap();
        assert!(
            report.revoked.contains(&DocId::Order(o.clone())),
            "tech.a is told the order is no longer theirs: {report:?}"
        );
        assert!(!a.order_ids().contains(&o), "the order left tech.a's lists");
        assert!(
            a.with_store(|s| s.contains(&DocId::visit(&o, "tech.a")))
                .unwrap(),
            "tech.a's visit (work already done) is kept"
        );
        b.sync().await.unwrap();
        assert!(b.order_ids().contains(&o), "tech.b now holds the order");

        disp.sync().await.unwrap();
        let row = disp.with_store(|s| s.order_row(&o)).unwrap().unwrap();
        assert_eq!(row.assignee.as_deref(), Some("tech.b"));
        assert!(
            row.conflicts.contains(&Conflict::ReassignedWhileOnSite {
                previous: "tech.a".into(),
                current: Some("tech.b".into())
            }),
            "reassigning while tech.a was on site is surfaced for review: {:?}",
            row.conflicts
        );
        s.stop().await;
    })
    .await;
}

#[tokio::test]
async fn cancel_versus_complete_is_surfaced_as_a_conflict() {
    bounded(async {
        let s = Seeded::start().await;
        let url = s.url.clone();
        let disp = Device::sign_in(&url, "disp").await;
        let a = Device::sign_in(&url, "tech.a").await;
        disp.sync().await.unwrap();
        a.sync().await.unwrap();
        let o = order_id(4);
        a.complete_job(&o, DAY + 9 * HOUR);
        disp.with_store(|s| {
            s.update::<Order, _>(&DocId::Order(o.clone()), |ord| {
                ord.set_status(
                    DispatchStatus::Cancelled,
                    "customer called to cancel",
                    DAY + 10 * HOUR,
                )
            })
        })
        .unwrap();
        disp.sync().await.unwrap();
        a.sync().await.unwrap();
        disp.sync().await.unwrap();
        for (who, d) in [("dispatcher", &disp), ("technician", &a)] {
            let row = d.with_store(|s| s.order_row(&o)).unwrap().unwrap();
            assert_eq!(row.dispatch_status, DispatchStatus::Cancelled, "{who}");
            assert_eq!(
                row.effective_status,
                EffectiveStatus::Completed,
                "{who}: the signed work stands"
            );
            assert_eq!(
                row.conflicts,
                vec![Conflict::CancelledButCompleted {
                    technician_id: "tech.a".into()
                }],
                "{who} sees the contradiction listed, not resolved"
            );
        }
        s.stop().await;
    })
    .await;
}

#[tokio::test]
async fn relay_restart_mid_sync_loses_and_duplicates_nothing() {
    bounded(async {
        let mut s = Seeded::start().await;
        let url = s.url.clone();
        let a = Device::sign_in(&url, "tech.a").await;
        a.sync().await.unwrap();
        let visit = a.complete_job(&order_id(0), DAY + 9 * HOUR);
        let pending = a.with_store(|s| s.pending_count().unwrap());
        assert!(pending > 0);

        s.kill();
        let err = a.sync().await.expect_err("the relay is down");
        assert!(err.is_offline(), "a dead relay reads as offline, got {err}");
        assert_eq!(
            a.with_store(|s| s.pending_count().unwrap()),
            pending,
            "nothing lost while offline"
        );

        s.restart().await;
        let first = a.sync().await.unwrap();
        assert!(first.docs_sent >= 1);
        assert_eq!(a.with_store(|s| s.pending_count().unwrap()), 0);
        let again = a.sync().await.unwrap();
        assert_eq!(again.docs_sent, 0, "a second sync has nothing to send");
        assert_eq!(again.docs_received, 0, "and nothing comes back twice");

        let disp = Device::sign_in(&url, "disp").await;
        disp.sync().await.unwrap();
        let got: Visit = disp
            .with_store(|s| s.read(&DocId::visit(&order_id(0), "tech.a")))
            .unwrap();
        assert_eq!(
            got.events.len(),
            visit.events.len(),
            "no progress event duplicated"
        );
        assert_eq!(got, visit);
        s.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_revoked_token_stops_sync_and_keeps_every_local_edit() {
    bounded(async {
        let s = Seeded::start().await;
        let url = s.url.clone();
        let a = Device::sign_in(&url, "tech.a").await;
        a.sync().await.unwrap();
        a.complete_job(&order_id(2), DAY + 9 * HOUR);
        let pending = a.with_store(|s| s.pending_count().unwrap());

        let token = a.session.token.clone().unwrap();
        let resp = reqwest::Client::new()
            .post(format!("{url}/api/v1/sign-out"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "sign-out revokes the token");

        let err = a.sync().await.expect_err("a revoked token cannot sync");
        assert!(
            err.needs_sign_in(),
            "the app asks to sign in again, got {err} ({})",
            err.code()
        );
        assert_eq!(err.code(), "auth.token_revoked");
        assert_eq!(
            a.with_store(|s| s.pending_count().unwrap()),
            pending,
            "every unsynced edit is kept"
        );

        let clock = onsite_client::RelayClock::default();
        onsite_client::sign_in(&a.store, &url, "tech.a", onsite_testkit::PASSWORD, &clock)
            .await
            .unwrap();
        a.sync().await.unwrap();
        assert_eq!(
            a.with_store(|s| s.pending_count().unwrap()),
            0,
            "after signing in again the work syncs"
        );
        s.stop().await;
    })
    .await;
}

#[tokio::test]
async fn the_public_verify_page_checks_a_synced_record_without_personal_data() {
    bounded(async {
        let s = Seeded::start().await;
        let url = s.url.clone();
        let a = Device::sign_in(&url, "tech.a").await;
        a.sync().await.unwrap();
        let visit = a.complete_job(&order_id(0), DAY + 9 * HOUR);
        a.sync().await.unwrap();
        let order: Order = a
            .with_store(|s| s.read(&DocId::Order(order_id(0))))
            .unwrap();
        let hash = &visit.signature.as_ref().unwrap().record_hash;
        let http = reqwest::Client::new();
        let page = |path: String| {
            let http = http.clone();
            async move {
                let r = http
                    .get(path)
                    .header("accept-language", "en")
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };
        let (status, body) = page(format!("{url}/verify/{}/{hash}", order.order_no)).await;
        assert_eq!(status, 200, "{body}");
        assert!(
            body.to_lowercase().contains("valid"),
            "the page says the record is valid: {body}"
        );
        assert!(
            !body.contains(&order.customer.name),
            "no customer name on the public page"
        );
        assert!(
            !body.contains(&order.customer.phone),
            "no customer phone on the public page"
        );
        assert!(
            !body.contains(&order.customer.address),
            "no customer address on the public page"
        );
        let (status, _) = page(format!(
            "{url}/verify/{}/{}",
            order.order_no,
            "0".repeat(64)
        ))
        .await;
        assert_eq!(status, 404, "an unknown hash is 'unknown'");
        let (status, _) = page(format!("{url}/verify/WO-NOPE/{hash}")).await;
        assert_eq!(status, 404, "an unknown order is 'unknown'");
        s.stop().await;
    })
    .await;
}

#[tokio::test]
async fn bad_attachment_uploads_are_refused_with_codes_and_store_nothing() {
    bounded(async {
        let s = Seeded::start().await;
        let url = s.url.clone();
        let a = Device::sign_in(&url, "tech.a").await;
        let token = a.session.token.clone().unwrap();
        let http = reqwest::Client::new();
        let png = onsite_testkit::job::signature_png();
        let sha = onsite_store::sha256_hex(&png);
        let put = |path: String, mime: &'static str, body: Vec<u8>, auth: bool| {
            let mut r = http
                .put(format!("{url}/api/v1/attachments/{path}"))
                .header("content-type", mime)
                .body(body);
            if auth {
                r = r.bearer_auth(&token);
            }
            async move {
                let resp = r.send().await.unwrap();
                let status = resp.status().as_u16();
                let body: serde_json::Value = resp.json().await.unwrap_or_default();
                (status, body["code"].as_str().unwrap_or_default().to_owned())
            }
        };
        let cases = [
            (
                put(sha.clone(), "image/png", png[..20].to_vec(), true).await,
                (400, "attachment.hash_mismatch"),
                "truncated upload",
            ),
            (
                put("not-a-hash".into(), "image/png", png.clone(), true).await,
                (400, "attachment.bad_ref"),
                "bad id",
            ),
            (
                put(sha.clone(), "text/html", png.clone(), true).await,
                (415, "attachment.unsupported_type"),
                "wrong type",
            ),
            (
                put(sha.clone(), "image/png", png.clone(), false).await,
                (401, "auth.missing_token"),
                "no token",
            ),
            (
                put(
                    onsite_store::sha256_hex(b"<html><script>alert(1)</script>"),
                    "image/png",
                    b"<html><script>alert(1)</script>".to_vec(),
                    true,
                )
                .await,
                (415, "attachment.unsupported_type"),
                "a page labelled as an image",
            ),
        ];
        for ((status, code), (want_status, want_code), why) in cases {
            assert_eq!((status, code.as_str()), (want_status, want_code), "{why}");
        }
        assert!(
            s.relay().storage.attachment(&sha).unwrap().is_none(),
            "nothing stored by refused uploads"
        );
        let (status, _) = put(sha.clone(), "image/png", png.clone(), true).await;
        assert_eq!(status, 201);
        let (status, _) = put(sha.clone(), "image/png", png.clone(), true).await;
        assert_eq!(status, 201, "uploading the same bytes again is harmless");

        // tech.b uploads the same bytes: the answer does not reveal that tech.a stored them, and
        // tech.b reads back what they uploaded.
        let b = Device::sign_in(&url, "tech.b").await;
        let b_token = b.session.token.clone().unwrap();
        let r = http
            .put(format!("{url}/api/v1/attachments/{sha}"))
            .header("content-type", "image/png")
            .bearer_auth(&b_token)
            .body(png.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status().as_u16(),
            201,
            "the same answer as a first upload"
        );
        let r = http
            .get(format!("{url}/api/v1/attachments/{sha}"))
            .bearer_auth(&b_token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status().as_u16(),
            200,
            "the second uploader reads their file"
        );
        assert_eq!(
            r.headers()
                .get("x-content-type-options")
                .map(|v| v.as_bytes()),
            Some(&b"nosniff"[..]),
            "browsers must not guess another type"
        );
        assert_eq!(r.bytes().await.unwrap().as_ref(), png.as_slice());
        s.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_task_syncs_by_itself_when_connectivity_returns() {
    bounded(async {
        let mut s = Seeded::start().await;
        let url = s.url.clone();
        let a = Device::sign_in(&url, "tech.a").await;
        a.sync().await.unwrap();
        s.kill();
        a.complete_job(&order_id(0), DAY + 9 * HOUR);

        let config = onsite_client::SyncConfig {
            debounce: Duration::from_millis(20),
            backoff_min: Duration::from_millis(50),
            backoff_max: Duration::from_millis(400),
            poll_every: Duration::from_secs(60),
            ..Default::default()
        };
        let handle = onsite_client::spawn(a.store.clone(), config);
        let mut status = handle.subscribe();
        let wait_for = |want: onsite_client::SyncState| {
            let mut status = status.clone();
            async move {
                status
                    .wait_for(|s| s.state == want)
                    .await
                    .map(|s| s.clone())
                    .expect("status channel open")
            }
        };
        let offline = wait_for(onsite_client::SyncState::Offline).await;
        assert!(
            offline.pending_changes > 0,
            "the completed job waits for the network"
        );
        assert_eq!(
            offline.last_error.as_ref().map(|e| e.0.as_str()),
            Some("sync.offline")
        );

        // The relay comes back on the same address; nobody presses anything.
        s.restart().await;
        let online = status
            .wait_for(|s| s.state == onsite_client::SyncState::Online && s.pending_changes == 0)
            .await
            .expect("status channel open")
            .clone();
        assert!(online.last_synced_ms.is_some(), "the sync time is shown");
        assert!(
            online.last_error.is_none(),
            "the error clears after a successful sync"
        );
        handle.stop();
        s.stop().await;
    })
    .await;
}

/// A relay with 400 demo orders, half of them tech.a's, answering 25 documents at a time: a
/// technician's first sync takes many rounds. Keep the folder while the relay runs.
async fn long_feed() -> (tempfile::TempDir, onsite_relay::RunningRelay) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("relay.sqlite3");
    let storage = onsite_relay::SqliteStorage::open(&db).expect("open relay database");
    let mut config = onsite_relay::Config::for_database(&db);
    config.max_docs_per_response = 25;
    onsite_relay::seed::seed_demo(&storage, &config, onsite_testkit::PASSWORD, 400, DAY, DAY)
        .expect("seed 400 orders, half of them for tech.a");
    drop(storage);
    (dir, onsite_testkit::relay::start_with(config).await)
}

/// A long first sync reads the next page while it stores this one. When the technician starts a
/// visit in the middle of it, the page read ahead is not the request the next round sends (that
/// one carries the visit): the sync sends the visit, still ends holding everything, and the relay
/// has the visit.
#[tokio::test]
async fn work_started_during_a_long_first_sync_is_sent_in_it() {
    bounded(async {
        let (_dir, relay) = long_feed().await;
        let a = Device::sign_in(&relay.url(), "tech.a").await;
        let relay_client = onsite_client::Relay::for_device(&a.store, &relay.url()).unwrap();
        let mut started: Option<(String, u32)> = None;
        let mut round = 0;
        let report = onsite_client::sync_once(&a.store, &relay_client, &a.session, |_, more| {
            round += 1;
            if started.is_some() || !more {
                return;
            }
            let tried = a
                .order_ids()
                .into_iter()
                .find_map(|o| a.with_store(|s| s.start_visit(&o, "tech.a").ok().map(|_| o)));
            started = tried.map(|o| (o, round));
        })
        .await
        .expect("first sync");
        let (order, at) = started.expect("a visit was started while more pages were coming");
        assert!(
            at < report.round_trips,
            "the visit was started before the last round: {at} of {}",
            report.round_trips
        );
        assert_eq!(
            a.with_store(|s| s.pending_count().unwrap()),
            0,
            "the visit went up in the same sync"
        );
        let fresh = Device::sign_in(&relay.url(), "tech.a").await;
        fresh.sync().await.expect("a fresh device syncs");
        let held = |d: &Device| d.with_store(|s| s.list_doc_ids().unwrap());
        assert_eq!(
            held(&a),
            held(&fresh),
            "the device that sent work mid-sync holds what a fresh device gets"
        );
        let visit = DocId::Visit {
            order_id: order,
            technician_id: "tech.a".into(),
        };
        assert!(
            held(&fresh).contains(&visit),
            "the relay has the visit started mid-sync"
        );
        relay.stop().await;
    })
    .await;
}

/// A fresh technician's first sync of a few hundred orders, 25 documents an answer: every round
/// reports "n of N" with the same N, n going up, the last at N — the documents the device holds.
#[tokio::test]
async fn a_long_first_sync_reports_n_of_n_documents() {
    bounded(async {
        let (_dir, relay) = long_feed().await;
        let a = Device::sign_in(&relay.url(), "tech.a").await;
        let relay_client = onsite_client::Relay::for_device(&a.store, &relay.url()).unwrap();
        let mut seen = Vec::new();
        let report = onsite_client::sync_once(&a.store, &relay_client, &a.session, |r, _| {
            seen.push(r.progress().expect("the feed brought documents"));
        })
        .await
        .expect("first sync");
        let held = a.with_store(|s| s.list_doc_ids().unwrap().len()) as u64;
        assert!(
            seen.len() >= 8,
            "200 orders at 25 an answer take several rounds: {seen:?}"
        );
        let (_, total) = seen[0];
        assert!(
            seen.iter().all(|&(_, t)| t == total),
            "N stays the same through the sync: {seen:?}"
        );
        assert!(
            seen.windows(2).all(|w| w[0].0 < w[1].0),
            "n goes up every round: {seen:?}"
        );
        assert_eq!(
            seen.last().copied(),
            Some((total, total)),
            "the sync ends at n == N: {seen:?}"
        );
        assert_eq!(
            total, held,
            "N counts every document the device ends up holding"
        );
        assert_eq!(report.feed_received, held, "{report:?}");
        relay.stop().await;
    })
    .await;
}
