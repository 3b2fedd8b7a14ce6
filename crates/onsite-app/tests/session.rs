//! A device that syncs exchanges a token near its end for a fresh one by itself, so only a
//! device that stays away (a lost phone) loses its session; the exchanged token stops working.

mod common;

use common::signed_in;

use onsite_client::Session;
use onsite_testkit::relay::{Seeded, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_near_its_end_is_exchanged_on_the_next_sync() {
    let seeded = Seeded::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = signed_in(dir.path(), &seeded.url, "tech.a").await;
    let first = Session::load(app.store())
        .expect("read")
        .expect("a session");
    let old_token = first.token.clone().expect("a token");
    // As if the token had been issued days ago: one day left.
    let near_end = Session {
        expires_at_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_millis() as i64
            + 86_400_000,
        ..first.clone()
    };
    app.store()
        .lock()
        .expect("store")
        .kv_set(
            "client.session",
            &serde_json::to_vec(&near_end).expect("serialises"),
        )
        .expect("kept");
    app.sync_now().expect("sync");
    wait_for("the token to be exchanged", || {
        Session::load(app.store())
            .ok()
            .flatten()
            .and_then(|s| s.token)
            .is_some_and(|t| t != old_token)
    })
    .await;
    let fresh = Session::load(app.store())
        .expect("read")
        .expect("a session");
    assert!(
        fresh.expires_at_ms > near_end.expires_at_ms,
        "the fresh token lives longer"
    );
    assert_eq!(fresh.user_id, first.user_id, "same user");
    let old = onsite_relay::accounts::authenticate(
        seeded.relay().storage.as_ref(),
        &old_token,
        fresh.expires_at_ms - 1,
    );
    assert!(
        old.is_err(),
        "the exchanged token no longer works at the relay"
    );
    wait_for("the device to keep syncing with the fresh token", || {
        app.sync_status()
            .is_ok_and(|s| s.last_error.is_none() && s.last_synced_ms.is_some())
    })
    .await;
}
