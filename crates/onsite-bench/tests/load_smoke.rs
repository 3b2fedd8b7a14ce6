//! Smoke run of the load generator (tiny numbers, so the bench code cannot rot): 5 devices for
//! about 2 s against a relay in this process on 127.0.0.1. Asserts counts, never timings.

use std::time::Duration;

use onsite_bench::load::{self, Plan};
use onsite_domain::DocId;
use onsite_domain::visit::Visit;
use onsite_relay::Config;

const PASSWORD: &str = "smoke-password-1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_devices_store_every_change_without_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("relay.sqlite3");
    let plan = Plan {
        devices: 5,
        orders_per_device: 3,
        burst_every: Duration::from_millis(400),
        warm_up: Duration::from_millis(400),
        measure: Duration::from_millis(1600),
        setup_concurrency: 2,
        request_timeout: Duration::from_secs(30),
    };
    let fleet = load::prepare(
        &db,
        plan.devices,
        plan.orders_per_device,
        PASSWORD,
        onsite_relay::api::now_ms(),
    )
    .expect("the database is prepared");
    let relay = onsite_testkit::relay::start_with(Config::for_database(&db)).await;
    let url = relay.url();
    let report = load::run(&url, None, &fleet, PASSWORD, &plan)
        .await
        .expect("the run completes");
    print!("{}", report.table());

    assert!(
        report.errors_all.is_empty(),
        "no request may fail or be refused: {:?}",
        report.errors_all
    );
    assert_eq!(
        report.push_streams, 5,
        "every device keeps a push stream open"
    );
    assert!(
        report.bursts >= 5,
        "each device bursts in the measured window: {}",
        report.bursts
    );
    assert_eq!(
        report.stored_changes_all, report.edits,
        "every edit (visit started or changed) is stored exactly once"
    );
    assert_eq!(report.unsynced_docs, 0, "nothing is left unsent at the end");
    assert!(
        report.stored_changes >= report.bursts * 3,
        "each measured burst stores its 3 changed visits: {} changes for {} bursts",
        report.stored_changes,
        report.bursts
    );
    for t in &fleet.technicians {
        for order in &t.orders {
            let DocId::Order(order_id) = order else {
                unreachable!()
            };
            let id = DocId::visit(order_id, &t.user_id);
            let bytes = relay
                .storage
                .doc(&id)
                .expect("storage")
                .expect("the visit is stored");
            let v: Visit =
                onsite_domain::doc::read(&onsite_domain::doc::load(&bytes).expect("loads"))
                    .expect("hydrates");
            assert!(
                v.diagnosis.starts_with("burst "),
                "{id} carries the bursts' notes: {:?}",
                v.diagnosis
            );
        }
    }
    relay.stop().await;
}
