//! The public verify page's first step is an index lookup of (order number, signed record hash):
//! a wrong hash for a real number and any hash for an unknown number take the same path and give
//! the same answer. Visits stored before the index existed are indexed when the database migrates.

mod common;

use common::{BEFORE_TENANCY, seed, start_relay};
use onsite_domain::DocId;
use onsite_domain::order::Order;
use onsite_domain::visit::Visit;
use onsite_relay::{RelayStorage, SqliteStorage};

/// The order number and signed record hash of the first seeded past order.
fn signed_record(storage: &dyn RelayStorage, past: &DocId) -> (String, String) {
    let read = |d: &DocId| storage.doc(d).unwrap().expect("stored");
    let order: Order =
        onsite_domain::doc::read(&onsite_domain::doc::load(&read(past)).unwrap()).unwrap();
    let visit = DocId::visit(
        &order.order_id,
        order.assignee.as_deref().expect("assigned"),
    );
    let visit: Visit =
        onsite_domain::doc::read(&onsite_domain::doc::load(&read(&visit)).unwrap()).unwrap();
    let hash = visit
        .signature
        .expect("the past visit is signed")
        .record_hash;
    (order.order_no, hash)
}

#[tokio::test]
async fn a_record_is_found_by_number_and_signed_hash_only() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    let summary = seed(&relay);
    let (no, hash) = signed_record(relay.storage.as_ref(), &summary.past_orders[0]);
    let (other_no, _) = signed_record(relay.storage.as_ref(), &summary.past_orders[1]);
    let s = relay.storage.as_ref();
    assert!(
        s.signed_record_exists(&no, &hash).unwrap(),
        "the signed record is found"
    );
    assert!(
        !s.signed_record_exists(&no, &"0".repeat(64)).unwrap(),
        "a wrong hash for a real number is not"
    );
    assert!(
        !s.signed_record_exists("WO-NOPE", &hash).unwrap(),
        "nor an unknown number"
    );
    assert!(
        !s.signed_record_exists(&other_no, &hash).unwrap(),
        "nor another order's number with this hash"
    );
    relay.stop().await;
}

#[tokio::test]
async fn visits_signed_before_the_index_existed_are_indexed_by_the_migration() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    let summary = seed(&relay);
    let (no, hash) = signed_record(relay.storage.as_ref(), &summary.past_orders[0]);
    relay.stop().await;
    let db = dir.path().join("relay.sqlite3");
    {
        // As a database of the previous version: no column contents, version 4.
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(BEFORE_TENANCY).unwrap();
        conn.execute_batch(
            "DROP TABLE feed; DROP INDEX docs_by_record_hash; ALTER TABLE docs DROP COLUMN record_hash;
             DROP TABLE delivery_attempts; DROP TABLE deliveries; DROP TABLE outbox_events;
             DROP TABLE webhooks; DROP TABLE export_records; DROP TABLE order_facts;
             DROP TABLE api_tokens; PRAGMA user_version = 4;",
        )
        .unwrap();
    }
    let s = SqliteStorage::open(&db).expect("the migration runs");
    assert!(
        s.signed_record_exists(&no, &hash).unwrap(),
        "the record signed before the migration is found after it"
    );
}

// The same behaviour on PostgreSQL (the tests not listed read or write the SQLite file
// directly: migrations from older SQLite schemas, damaged rows).
onsite_testkit::on_postgres!(a_record_is_found_by_number_and_signed_hash_only,);
