//! The technicians' feed index (`feed`, SQLite migration 8): a technician's feed lists what they
//! may read — the same documents as before the index existed — also for changes stored before
//! the migration added it.

mod common;

use std::collections::BTreeSet;

use common::{BEFORE_TENANCY, Device, seed, start_relay};
use onsite_domain::DocId;
use onsite_wire::Role;

/// Every technician of the seed and the documents a fresh device of theirs receives.
async fn first_syncs(url: &str, technicians: &[String]) -> Vec<BTreeSet<DocId>> {
    let mut out = Vec::new();
    for t in technicians {
        let mut d = Device::sign_in(url, t).await;
        d.sync().await;
        out.push(d.docs.keys().cloned().collect());
    }
    out
}

#[tokio::test]
async fn changes_stored_before_the_index_existed_reach_the_same_technicians_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    let seeded = seed(&relay);
    let technicians: Vec<String> = seeded
        .users
        .iter()
        .filter(|(_, role, _)| *role == Role::Technician)
        .map(|(id, _, _)| id.clone())
        .collect();
    assert!(technicians.len() >= 2, "the seed has several technicians");
    let before = first_syncs(&relay.url(), &technicians).await;
    relay.stop().await;
    {
        // As a database of version 7: no feed index.
        let conn = rusqlite::Connection::open(dir.path().join("relay.sqlite3")).unwrap();
        conn.execute_batch(BEFORE_TENANCY).unwrap();
        conn.execute_batch(
            "CREATE INDEX docs_meta
                 ON docs(doc_id, heads, size, order_no, assignee, assignees_ever, record_hash);
             DROP TABLE feed; PRAGMA user_version = 7;",
        )
        .unwrap();
    }
    let relay = start_relay(dir.path()).await;
    let after = first_syncs(&relay.url(), &technicians).await;
    for ((t, b), a) in technicians.iter().zip(&before).zip(&after) {
        assert!(
            b.iter().any(|d| matches!(d, DocId::Order(_))),
            "{t} holds orders: the comparison means something"
        );
        assert_eq!(
            a, b,
            "{t}'s first sync after the migration indexed the stored changes must bring the same documents"
        );
    }
    let all: BTreeSet<&DocId> = before.iter().flatten().collect();
    assert!(
        before.iter().all(|b| b.len() < all.len()),
        "no technician receives every other technician's documents"
    );
    relay.stop().await;
}
