//! Partial replicas on a real relay (issue 14), on SQLite and on PostgreSQL: a dispatcher's
//! windowed first sync holds exactly what the window rule says — computed here from a whole-history
//! device's copies with `onsite_domain::retention` — and the history search finds the rest for
//! staff only; the job index of a database from before it is filled by its migration.

mod common;

use std::collections::BTreeSet;

use common::*;
use onsite_domain::order::Order;
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, doc, retention};
use onsite_sync::access::governing_order;
use onsite_wire::{Code, ErrorBody, HistoryAnswer};
use reqwest::StatusCode;

/// Shorter than the seed's past jobs' and history's age, so the held set does not depend on the
/// date the test runs (the relay measures the window from its real clock).
const WINDOW: u32 = 30;

/// A fresh dispatcher device's first sync with `window`, to the end of the feed.
async fn first_sync(url: &str, device: &str, window: Option<u32>) -> BTreeSet<DocId> {
    let mut dev = Device::new(sign_in(url, "disp", device).await);
    let mut counted = None;
    for round in 0..200 {
        let mut req = dev.request();
        req.window_days = window;
        req.count_remaining = round == 0;
        let resp = dev.client.sync(&req).await.expect("sync");
        dev.apply(&resp);
        if round == 0 {
            counted = resp.remaining.map(|left| left + resp.docs.len() as u64);
        }
        if !resp.more {
            let held: BTreeSet<DocId> = dev.docs.keys().cloned().collect();
            assert_eq!(
                counted,
                Some(held.len() as u64),
                "the first answer's count is what the first sync brings (the sync bar's N)"
            );
            return held;
        }
    }
    panic!("the first sync ends");
}

fn now_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.expect("after 1970").as_millis() as i64
}

/// What a device with `window` holds of `all` by the domain's rule, read from `whole`'s copies.
fn expected(all: &BTreeSet<DocId>, whole: &mut Device, window: u32) -> BTreeSet<DocId> {
    let cutoff = retention::cutoff(now_ms(), window);
    all.iter()
        .filter(|d| match governing_order(d) {
            None => true,
            Some(o) => {
                let order: Order = doc::read(whole.doc(&DocId::Order(o.into()))).unwrap();
                let visits: Vec<Visit> = all
                    .iter()
                    .filter(|v| matches!(v, DocId::Visit { order_id, .. } if order_id == o))
                    .map(|v| doc::read(whole.doc(v)).unwrap())
                    .collect();
                retention::held(retention::job(&order, &visits), cutoff)
            }
        })
        .cloned()
        .collect()
}

async fn history(client: &Client, query: &str) -> Result<HistoryAnswer, (StatusCode, Code)> {
    let r = client
        .http
        .get(format!("{}/api/v1/history?{query}", client.base))
        .bearer_auth(&client.token)
        .send()
        .await
        .unwrap();
    let status = r.status();
    if status.is_success() {
        Ok(r.json().await.unwrap())
    } else {
        Err((status, r.json::<ErrorBody>().await.unwrap().code))
    }
}

#[tokio::test]
async fn a_windowed_first_sync_holds_what_the_rule_says_and_the_history_finds_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    seed(&relay);
    let all = first_sync(&relay.url(), "whole", None).await;
    let mut whole = Device::sign_in(&relay.url(), "disp").await;
    whole.sync().await;
    let want = expected(&all, &mut whole, WINDOW);
    let got = first_sync(&relay.url(), "windowed", Some(WINDOW)).await;
    assert_eq!(
        got, want,
        "the windowed device holds exactly the rule's documents"
    );
    assert!(
        got.len() < all.len(),
        "the seed's signed past jobs are older than the window: {} of {} held",
        got.len(),
        all.len()
    );
    assert!(
        got.contains(&DocId::Household("hh-1".into())),
        "the registry is held"
    );

    let staff = sign_in(&relay.url(), "disp", "search").await;
    let found = history(&staff, "household=hh-1").await.expect("search");
    let left_out: Vec<_> = found
        .jobs
        .iter()
        .filter(|j| !got.contains(&DocId::Order(j.order_id.clone())))
        .collect();
    assert!(
        !left_out.is_empty(),
        "the household's jobs outside the window are found"
    );
    for j in &left_out {
        assert!(j.settled, "only settled jobs leave the window");
        assert!(
            j.docs.iter().all(|d| all.contains(d)),
            "their documents are the relay's, to fetch by id"
        );
    }
    let phone = history(&staff, "q=13800000001")
        .await
        .expect("search by phone");
    assert!(
        phone.jobs.iter().any(|j| j.household_id == "hh-1"),
        "found by the customer's phone: {:?}",
        phone.jobs
    );
    let tech = sign_in(&relay.url(), "tech.a", "t").await;
    assert_eq!(
        history(&tech, "household=hh-1").await.unwrap_err(),
        (StatusCode::FORBIDDEN, Code::HistoryStaffOnly)
    );
    assert_eq!(
        history(&staff, "q=x").await.unwrap_err(),
        (StatusCode::BAD_REQUEST, Code::HistoryBadQuery)
    );
}

#[tokio::test]
async fn the_job_index_of_an_older_database_is_filled_by_its_migration() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    seed(&relay);
    relay.stop().await;
    {
        let conn = rusqlite::Connection::open(dir.path().join("relay.sqlite3")).unwrap();
        conn.execute_batch(BEFORE_JOBS).unwrap();
    }
    let relay = start_relay(dir.path()).await;
    let staff = sign_in(&relay.url(), "disp", "search").await;
    let found = history(&staff, "household=hh-1").await.expect("search");
    assert_eq!(
        found.jobs.len(),
        4,
        "today's two jobs and the two past ones, indexed from the stored orders: {:?}",
        found.jobs
    );
}

onsite_testkit::on_postgres!(
    a_windowed_first_sync_holds_what_the_rule_says_and_the_history_finds_the_rest
);
