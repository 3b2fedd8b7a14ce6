//! Two relay instances on one PostgreSQL database (issue 14): the changes feed stays gap-free
//! and duplicate-free under concurrent writers on both, and a push stream on one instance hears
//! of a commit made through the other — also one made while it was not listening. PostgreSQL only: the tests need `ONSITE_TEST_POSTGRES`
//! (`scripts/pg.sh`) and fail without it.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use automerge::AutoCommit;
use common::{Device, sign_in};
use onsite_domain::order::Order;
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, doc, templates};
use onsite_relay::{Config, RunningRelay};
use onsite_sync::device::PeerState;
use reqwest::StatusCode;

/// Edits each writer makes (each synced on its own, alternating instances).
const ROUNDS: usize = 12;

/// A seeded PostgreSQL database and two relay instances on it.
async fn two_instances(dir: &std::path::Path) -> (PathBuf, RunningRelay, RunningRelay) {
    let (db, storage) = common::seeded_postgres(dir, 6);
    drop(storage);
    let a = onsite_testkit::relay::start_with(Config::for_database(db.clone())).await;
    let b = onsite_testkit::relay::start_with(Config::for_database(db.clone())).await;
    (db, a, b)
}

fn order(n: u32) -> DocId {
    DocId::Order(format!("o-{n:05}"))
}

/// A device of `user` named `device`, its requests going to `urls` in turn.
async fn device(urls: &[String; 2], user: &str, device: &str) -> Device {
    Device::new(sign_in(&urls[0], user, device).await)
}

/// Point the device's next request at instance `turn % 2`.
fn through(dev: &mut Device, urls: &[String; 2], turn: usize) {
    dev.client.base = urls[turn % 2].clone();
}

/// Start `tech`'s visit on each of `orders` (already on the device); their ids.
fn start_visits(dev: &mut Device, orders: &[u32], tech: &str) -> Vec<DocId> {
    orders
        .iter()
        .map(|&n| {
            let o: Order = doc::read(dev.doc(&order(n))).expect("the order is on the device");
            let v = Visit::start(&o, tech, &templates::builtin_library()).expect("visit starts");
            let id = DocId::visit(&o.order_id, tech);
            let created = doc::create(&v).expect("visit document");
            dev.docs.insert(id.clone(), (created, PeerState::new()));
            id
        })
        .collect()
}

/// A writer: sync, start its visits, then edit one of them per round and sync it through the
/// instances in turn.
async fn write(urls: [String; 2], user: &'static str, dev_name: &'static str, orders: Vec<u32>) {
    let mut dev = device(&urls, user, dev_name).await;
    dev.sync().await;
    let visits = start_visits(&mut dev, &orders, user);
    for round in 0..ROUNDS {
        let id = &visits[round % visits.len()];
        let d = dev.doc(id);
        let mut v: Visit = doc::read(d).expect("the visit reads");
        v.diagnosis = format!("{dev_name} round {round}");
        doc::write(d, &v).expect("the visit writes");
        d.commit();
        through(&mut dev, &urls, round + usize::from(user == "tech.b"));
        dev.sync().await;
    }
}

/// Every stored change of a visit: (sequence number, document, change hash).
fn visit_changes(db: &str, upto: Option<u64>) -> Vec<(u64, String, Vec<u8>)> {
    let (db, upto) = (db.to_owned(), upto.map_or(i64::MAX, |u| u as i64));
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&db, postgres::NoTls).expect("connect");
        c.query(
            "SELECT seq, doc_id, hash FROM changes WHERE seq <= $1 AND doc_id LIKE 'visit:%' ORDER BY seq",
            &[&upto],
        )
        .expect("read the change log")
        .iter()
        .map(|r| (r.get::<_, i64>(0) as u64, r.get(1), r.get(2)))
        .collect()
    })
    .join()
    .expect("the query thread")
}

/// The change hashes a device holds for `doc` (none when it does not hold it).
fn held(dev: &mut Device, id: &DocId) -> BTreeSet<Vec<u8>> {
    dev.docs.get_mut(id).map_or_else(BTreeSet::new, |(d, _)| {
        let d: &mut AutoCommit = d;
        d.get_changes(&[])
            .iter()
            .map(|c| c.hash().0.to_vec())
            .collect()
    })
}

/// Whether `user` reads visit `doc` (a technician only their own; the dispatcher all).
fn reads(user: &str, doc: &str) -> bool {
    user == "disp" || doc.ends_with(&format!(":{user}"))
}

/// A reader: sync through the instances in turn while the writers write, and after every
/// answer check that it holds every change numbered up to its new cursor — a change that became
/// visible after a later-numbered one would be missing here for good.
async fn read(
    urls: [String; 2],
    db: String,
    user: &'static str,
    writing: Arc<AtomicBool>,
) -> Device {
    let mut dev = device(&urls, user, &format!("reader-{user}")).await;
    let mut turn = 0;
    loop {
        let still_writing = writing.load(Ordering::SeqCst);
        through(&mut dev, &urls, turn);
        turn += 1;
        let resp = dev.exchange().await.expect("a reader's sync succeeds");
        dev.apply(&resp);
        let mut holds: BTreeMap<String, BTreeSet<Vec<u8>>> = BTreeMap::new();
        for (seq, doc_id, hash) in visit_changes(&db, Some(dev.cursor)) {
            if !reads(user, &doc_id) {
                continue;
            }
            let id: DocId = doc_id.parse().expect("a document id");
            let has = holds
                .entry(doc_id.clone())
                .or_insert_with(|| held(&mut dev, &id));
            assert!(
                has.contains(&hash),
                "{user}'s feed moved its cursor to {} through instance {} but it lacks change {seq} \
                 of {doc_id}: a change numbered below the cursor was not visible when the cursor \
                 passed it, so this device would never be sent it (a gap in the feed)",
                dev.cursor,
                (turn - 1) % 2,
            );
        }
        if !still_writing && !resp.more {
            return dev;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_on_two_instances_leave_every_feed_gap_free_and_duplicate_free() {
    let dir = tempfile::tempdir().unwrap();
    let (db, a, b) = two_instances(dir.path()).await;
    let db = db.to_str().expect("a URL").to_owned();
    let urls = [a.url(), b.url()];
    let writing = Arc::new(AtomicBool::new(true));
    let readers: Vec<_> = ["disp", "tech.a", "tech.b"]
        .into_iter()
        .map(|u| tokio::spawn(read(urls.clone(), db.clone(), u, writing.clone())))
        .collect();
    let writers = [
        ("tech.a", "a-phone", vec![0, 2]),
        ("tech.a", "a-tablet", vec![4]),
        ("tech.b", "b-phone", vec![1, 3]),
        ("tech.b", "b-tablet", vec![5]),
    ]
    .map(|(u, d, orders)| tokio::spawn(write(urls.clone(), u, d, orders)));
    for w in writers {
        w.await.expect("a writer finishes");
    }
    writing.store(false, Ordering::SeqCst);
    let mut done = Vec::new();
    for r in readers {
        done.push(r.await.expect("a reader finishes"));
    }

    let log = visit_changes(&db, None);
    let head = a.storage.head_seq().unwrap();
    assert_eq!(
        head,
        b.storage.head_seq().unwrap(),
        "both instances see one head"
    );
    assert!(
        log.len() >= 4 * ROUNDS,
        "every edit was stored: {} visit changes for {} edits",
        log.len(),
        4 * ROUNDS
    );
    let numbers: BTreeSet<u64> = (1..=head).collect();
    let all = all_seqs(&db);
    assert_eq!(
        all, numbers,
        "the change log is numbered 1..={head} without a gap or a repeat"
    );
    for (user, mut dev) in ["disp", "tech.a", "tech.b"].into_iter().zip(done) {
        assert_eq!(dev.cursor, head, "{user}'s feed reached the head");
        let mut expected: BTreeMap<String, BTreeSet<Vec<u8>>> = BTreeMap::new();
        for (_, doc_id, hash) in log.iter().filter(|(_, d, _)| reads(user, d)) {
            assert!(
                expected
                    .entry(doc_id.clone())
                    .or_default()
                    .insert(hash.clone()),
                "change {} of {doc_id} is stored once",
                hex::encode(hash)
            );
        }
        assert!(
            !expected.is_empty(),
            "{user} reads some of the visits written"
        );
        for (doc_id, hashes) in expected {
            let id: DocId = doc_id.parse().unwrap();
            assert_eq!(
                held(&mut dev, &id),
                hashes,
                "{user} holds exactly the stored changes of {doc_id}, each once"
            );
        }
    }
    a.stop().await;
    b.stop().await;
}

/// Every sequence number in the change log (all documents).
fn all_seqs(db: &str) -> BTreeSet<u64> {
    let db = db.to_owned();
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&db, postgres::NoTls).expect("connect");
        c.query("SELECT seq FROM changes", &[])
            .expect("read the change log")
            .iter()
            .map(|r| r.get::<_, i64>(0) as u64)
            .collect()
    })
    .join()
    .expect("the query thread")
}

/// The demo dispatcher's push stream (`GET /api/v1/events`) on instance `relay`.
async fn dispatcher_stream(relay: &RunningRelay) -> reqwest::Response {
    let d = sign_in(&relay.url(), "disp", "dev-disp").await;
    let stream = d
        .http
        .get(format!("{}/api/v1/events", relay.url()))
        .bearer_auth(&d.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        stream.status(),
        StatusCode::OK,
        "the push stream opens on the instance"
    );
    stream
}

#[tokio::test]
async fn a_push_stream_on_one_instance_hears_of_a_commit_made_through_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, a, b) = two_instances(dir.path()).await;
    let mut stream = dispatcher_stream(&a).await;

    let urls = [b.url(), b.url()];
    let mut tech = device(&urls, "tech.a", "dev-tech.a").await;
    tech.sync().await;
    start_visits(&mut tech, &[0], "tech.a");
    tech.sync().await;
    let head = b.storage.head_seq().unwrap();

    let (found, seen) = common::announces(&mut stream, head, Duration::from_secs(10)).await;
    assert!(
        found,
        "the dispatcher's stream on instance A announces cursor {head}, committed through \
         instance B (LISTEN/NOTIFY); got {seen:?}"
    );
    a.kill();
    b.kill();
}

/// How many listening connections of relay instances the database has (other tests' databases
/// on the same cluster are not counted); with `terminate`, cut them.
fn listeners(db: &str, terminate: bool) -> i64 {
    let db = db.to_owned();
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&db, postgres::NoTls).expect("connect");
        let sql = match terminate {
            true => "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
            false => "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
        };
        c.query_one(sql, &[&onsite_relay::postgres::LISTENER_NAME])
            .expect("read pg_stat_activity")
            .get(0)
    })
    .join()
    .expect("the query thread")
}

#[tokio::test]
async fn a_commit_made_while_an_instance_was_not_listening_still_reaches_its_push_streams() {
    let dir = tempfile::tempdir().unwrap();
    let (db, a, b) = two_instances(dir.path()).await;
    let db = db.to_str().unwrap().to_owned();
    let mut stream = dispatcher_stream(&a).await;

    // Both instances' (and, until it closes, the seeding storage's).
    assert!(
        listeners(&db, true) >= 2,
        "both instances' listening connections are cut"
    );
    while listeners(&db, false) > 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // A new household, committed through B while nobody listens: its notification is lost.
    let mut household = onsite_domain::seed::household(0, common::DAY);
    household.household_id = "hh-while-deaf".into();
    let mut docs = vec![(
        DocId::Household(household.household_id.clone()),
        doc::create(&household).unwrap(),
    )];
    onsite_relay::seed::commit_as_admin(
        b.storage.as_ref(),
        &Config::default(),
        &mut docs,
        common::DAY,
    )
    .expect("B commits");
    let head = b.storage.head_seq().unwrap();
    assert_eq!(
        listeners(&db, false),
        0,
        "the commit was made before the instances listened again (they wait a second)"
    );

    let (found, seen) = common::announces(&mut stream, head, Duration::from_secs(15)).await;
    assert!(
        found,
        "listening again, A sees the head moved past what it heard and tells its streams \
         (cursor {head}); got {seen:?}"
    );
    a.kill();
    b.kill();
}
