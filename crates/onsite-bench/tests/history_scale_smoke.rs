//! Smoke run of `onsite-history-scale` (tiny numbers, correctness only, never timings): a relay
//! database with 400 generated jobs over five years written by the bulk path, served by a relay
//! in this process; a fresh dispatcher device's first sync with a 90-day window and another's
//! with the whole history; a history search and one old job fetched on demand.

use std::time::Duration;

use onsite_bench::history_gen::{self, HistorySpec};
use onsite_bench::history_scale;
use onsite_domain::{DocId, HOUR, retention};

const JOBS: u32 = 400;
const WINDOW_DAYS: u32 = 90;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windowed_and_full_first_sync_of_a_generated_history() {
    tokio::time::timeout(Duration::from_secs(120), async {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("relay.sqlite3");
        let spec = HistorySpec::of(JOBS);
        let now = chrono::Utc::now().timestamp_millis();
        history_gen::prepare_history(&db, &spec, now, |_| {}).expect("generate the history");
        let jobs = history_scale::relay_jobs(&db)
            .expect("every generated job's index row is what JobRow::of computes from its documents");
        assert_eq!(jobs.len(), JOBS as usize, "one jobs row per generated order");
        let cutoff = retention::cutoff(now, WINDOW_DAYS);
        assert!(
            jobs.iter().all(|j| (j.last_activity_ms - cutoff).abs() > HOUR),
            "no job sits within an hour of the window's edge, so the run's own duration cannot move one across"
        );
        let expected = history_scale::expected(&jobs, WINDOW_DAYS, now);
        let open = jobs.iter().filter(|j| !j.settled).count();
        assert!(
            open > 0 && expected.len() > open && expected.len() < jobs.len() / 4,
            "the window holds the open jobs and a few months of settled ones: {} of {} held, {open} open",
            expected.len(),
            jobs.len()
        );
        {
            let storage = onsite_relay::storage::open(&db).expect("open the generated database");
            let pass = onsite_relay::reminders::enqueue_due(storage.as_ref(), now).expect("a reminders pass");
            let stored: i64 = rusqlite::Connection::open(&db)
                .and_then(|c| c.query_row("SELECT COUNT(*) FROM docs WHERE doc_id LIKE 'household:%'", [], |r| r.get(0)))
                .expect("count the stored households");
            assert!(stored > i64::from(spec.households), "the generated households and the demo's");
            assert_eq!(
                pass.checked as i64, stored,
                "the bulk path marks every generated household as a commit marks the demo's"
            );
            assert_eq!(
                onsite_relay::reminders::enqueue_due(storage.as_ref(), now).expect("a second pass").checked,
                0,
                "then each is left alone until its next reminder comes due"
            );
        }
        let relay = onsite_testkit::relay::start_with(onsite_relay::Config::for_database(&db)).await;

        let (sync, device) = history_scale::dispatcher_first_sync(&relay.url(), &dir.path().join("windowed"), WINDOW_DAYS)
            .await
            .expect("windowed first sync");
        let held = history_scale::held(&device.store.lock().unwrap()).expect("every document reads");
        assert_eq!(held.orders, expected, "the device holds exactly the jobs the window rule holds");
        let settled_held: std::collections::BTreeSet<String> = jobs
            .iter()
            .filter(|j| j.settled && expected.contains(&j.order_id))
            .map(|j| j.order_id.clone())
            .collect();
        assert_eq!(held.visits, settled_held, "every settled job held comes with its signed visit");
        assert_eq!(held.households, spec.households as usize, "the registry is held whole");
        assert!(sync.wire_down > 0 && sync.round_trips > 0, "bytes and rounds are counted: {sync:?}");

        let phone = history_gen::household_phone(history_gen::household_of(&spec, 3));
        let (_, found) = history_scale::search(&device, &phone).await.expect("history search");
        assert!(
            found.jobs.iter().any(|j| j.order_id == history_gen::order_id(3)),
            "searching the phone of job 3's household finds that old job: {found:?}"
        );
        let old = found.jobs.iter().find(|j| j.order_id == history_gen::order_id(3)).expect("job 3");
        assert!(!expected.contains(&old.order_id), "job 3 is older than the window");
        history_scale::fetch(&device, &old.docs).await.expect("fetch job 3");
        let after = history_scale::held(&device.store.lock().unwrap()).expect("every document reads");
        assert!(
            after.orders.contains(&old.order_id) && after.visits.contains(&old.order_id),
            "the old job fetched on demand is on the device with its visit: {:?}",
            old.docs
        );
        assert!(old.docs.iter().any(|d| matches!(d, DocId::Visit { .. })), "the search names the visit too");

        let (full, device) = history_scale::dispatcher_first_sync(&relay.url(), &dir.path().join("full"), 0)
            .await
            .expect("full first sync");
        let all = history_scale::held(&device.store.lock().unwrap()).expect("every document reads");
        assert_eq!(all.orders.len(), JOBS as usize, "the whole history arrives without a window");
        assert!(
            full.documents > sync.documents,
            "the whole history is more documents than the window: {} vs {}",
            full.documents,
            sync.documents
        );
        relay.stop().await;
    })
    .await
    .expect("the smoke run finishes in time");
}
