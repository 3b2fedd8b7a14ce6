//! Smoke run of `onsite-device-scale` (tiny numbers, correctness only, never timings): a relay
//! in this process with 300 orders for one technician, 40 documents an answer; a fresh device's
//! first sync; the app opened on its folder and the Today list asked for.

use std::time::Duration;

use onsite_bench::device_scale::{self, ORDERS_PER_DAY};

const ORDERS: u32 = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_sync_and_today_of_a_few_hundred_orders() {
    tokio::time::timeout(Duration::from_secs(120), async {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("relay.sqlite3");
        let now = chrono::Utc::now().timestamp_millis();
        device_scale::prepare_relay(&db, ORDERS, now).expect("prepare the relay database");
        let mut config = onsite_relay::Config::for_database(&db);
        config.max_docs_per_response = 40;
        let relay = onsite_testkit::relay::start_with(config).await;

        let device_dir = dir.path().join("device");
        let sync = device_scale::first_sync(&relay.url(), &device_dir)
            .await
            .expect("first sync");
        device_scale::check_first_sync(&sync, ORDERS)
            .expect("every order arrives and the progress counts up to a fixed N");
        assert!(
            sync.round_trips as usize >= sync.documents / 40,
            "40 documents an answer: {} round trips for {} documents",
            sync.round_trips,
            sync.documents
        );
        assert!(
            sync.wire_down > 0 && sync.saved_gzip_bytes > 0,
            "bytes are counted at the socket and for the documents: {sync:?}"
        );
        relay.stop().await;

        let today = device_scale::open_and_today(&device_dir).expect("open the app, Today");
        assert_eq!(
            today.orders,
            3 * ORDERS_PER_DAY as usize,
            "Today lists yesterday's, today's and tomorrow's orders: {today:?}"
        );
        assert!(today.rss > 0, "memory is read from /proc: {today:?}");
    })
    .await
    .expect("the smoke run finishes in time");
}
