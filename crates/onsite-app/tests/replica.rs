//! A dispatcher's partial replica against the real relay (issue 14): with a history window the
//! device holds the registry and the open and recent jobs; older jobs are found in the relay's
//! history (by household, phone or order number) and fetched onto the device on demand, and the
//! window does not evict them again while they are held. Technicians may not search.

mod common;

use std::collections::BTreeSet;

use onsite_app::view::HistorySearchRequest;
use onsite_domain::Code;
use onsite_testkit::relay::{Seeded, wait_for};

/// Shorter than the demo's past jobs' age (60 and 300 days before the tests' day) and than its
/// history (up to 120 days), so which jobs are held does not depend on today's date.
const WINDOW: u32 = 30;

fn household(h: &str) -> HistorySearchRequest {
    HistorySearchRequest {
        query: None,
        household_id: Some(h.into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_holds_its_window_and_fetches_older_jobs_from_the_relays_history() {
    let seeded = Seeded::start().await;
    let app = common::open(&seeded.dir.path().join("disp"));
    app.set_history_window(WINDOW)
        .expect("set the window before the first sync");
    common::sign_in(&app, &seeded.url, "disp").await;
    assert_eq!(app.history_window().unwrap().days, Some(WINDOW));
    wait_for("the registry and today's orders", || {
        app.household("hh-1")
            .map(|h| h.orders.len() == 2)
            .unwrap_or(false)
    })
    .await;
    let h = app.household("hh-1").unwrap();
    assert!(
        h.orders.iter().all(|o| !o.order_no.starts_with("WO-H")),
        "the household's past jobs (60 and 300 days old, signed) are history: not on the device"
    );

    let found = app.search_history(household("hh-1")).await.expect("search");
    let past: Vec<_> = found
        .jobs
        .iter()
        .filter(|j| j.order_no.starts_with("WO-H"))
        .collect();
    assert_eq!(past.len(), 2, "the relay's history has both past jobs");
    assert!(past.iter().all(|j| j.settled && !j.on_device));
    assert_eq!(
        found.jobs.iter().filter(|j| j.on_device).count(),
        2,
        "today's two orders are marked as already on the device"
    );
    let newest_first: Vec<i64> = found.jobs.iter().map(|j| j.last_activity_ms).collect();
    assert!(
        newest_first.windows(2).all(|w| w[0] >= w[1]),
        "newest activity first"
    );

    let docs: Vec<String> = past.iter().flat_map(|j| j.docs.clone()).collect();
    assert!(
        docs.iter().any(|d| d.starts_with("visit:")),
        "the visits come with the orders"
    );
    let fetched = app.fetch_history(docs.clone()).await.expect("fetch");
    assert_eq!(
        fetched.fetched as usize,
        docs.len(),
        "every document arrived"
    );
    let h = app.household("hh-1").unwrap();
    assert_eq!(h.orders.len(), 4, "the past jobs are on the device now");
    assert!(
        h.orders
            .iter()
            .filter(|o| o.order_no.starts_with("WO-H"))
            .all(|o| !o.visits.is_empty()),
        "with their signed visits"
    );
    // Another sync runs the window's eviction: the fetched jobs are held for a week.
    app.fetch_history(Vec::new()).await.expect("sync again");
    assert_eq!(app.household("hh-1").unwrap().orders.len(), 4);

    let by_no = app
        .search_history(HistorySearchRequest {
            query: Some(past[0].order_no.clone()),
            household_id: None,
        })
        .await
        .unwrap();
    let ids: BTreeSet<&str> = by_no.jobs.iter().map(|j| j.order_id.as_str()).collect();
    assert!(
        ids.contains(past[0].order_id.as_str()),
        "found by its number"
    );
    let short = app
        .search_history(HistorySearchRequest {
            query: Some("x".into()),
            household_id: None,
        })
        .await
        .expect_err("one character lists nothing");
    assert_eq!(short.code(), Code::HistoryBadQuery);

    let tech = common::signed_in(&seeded.dir.path().join("tech"), &seeded.url, "tech.a").await;
    let refused = tech.search_history(household("hh-1")).await.unwrap_err();
    assert_eq!(refused.code(), Code::ConsoleDispatcherOnly);
    assert_eq!(
        app.set_history_window(20_000).unwrap_err().code(),
        Code::HistoryWindowTooLong
    );
}
