//! Smoke runs of the load generator (tiny numbers, so the bench code cannot rot): 5 devices for
//! about 2 s against relays in this process on 127.0.0.1 — one on SQLite, and two instances on
//! one PostgreSQL database (devices spread over both, push streams on the other instance).
//! Assert counts and convergence, never timings. The PostgreSQL run needs the test cluster
//! (`ONSITE_TEST_POSTGRES`, `scripts/pg.sh`) and fails without it, saying how to start it.

use std::path::PathBuf;
use std::time::Duration;

use onsite_bench::load::{self, Fleet, Plan, Report, Target};
use onsite_domain::DocId;
use onsite_domain::visit::Visit;
use onsite_relay::{Config, RelayStorage, RunningRelay};

const PASSWORD: &str = "smoke-password-1";

fn plan() -> Plan {
    Plan {
        devices: 5,
        orders_per_device: 3,
        burst_every: Duration::from_millis(400),
        warm_up: Duration::from_millis(400),
        measure: Duration::from_millis(1600),
        setup_concurrency: 2,
        request_timeout: Duration::from_secs(30),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_devices_store_every_change_without_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    smoke(dir.path().join("relay.sqlite3"), 1, "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgres_store_every_change_without_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    smoke(onsite_testkit::backend::postgres(dir.path()), 2, "postgres").await;
}

/// Prepare `db`, start `instances` relays on it, run the plan and check what it stored.
async fn smoke(db: PathBuf, instances: usize, backend: &str) {
    let plan = plan();
    let fleet = load::prepare(
        &db,
        plan.devices,
        plan.orders_per_device,
        PASSWORD,
        onsite_relay::api::now_ms(),
    )
    .expect("the database is prepared");
    let mut relays: Vec<RunningRelay> = Vec::new();
    for _ in 0..instances {
        relays.push(onsite_testkit::relay::start_with(Config::for_database(&db)).await);
    }
    let target = Target {
        urls: relays.iter().map(RunningRelay::url).collect(),
        ..Target::in_process(String::new(), backend)
    };
    let report = load::run(&target, &fleet, PASSWORD, &plan)
        .await
        .expect("the run completes");
    print!("{}", report.table());
    check_counts(&report, instances);
    check_visits(relays[0].storage.as_ref(), &fleet);
    for relay in relays {
        relay.stop().await;
    }
}

fn check_counts(report: &Report, instances: usize) {
    assert_eq!(
        report.instances, instances,
        "the report names the instances driven"
    );
    assert!(
        report.errors_all.is_empty(),
        "no request may fail or be refused: {:?}",
        report.errors_all
    );
    assert_eq!(
        report.push_streams, 5,
        "every device keeps a push stream open (on another instance when there are two)"
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
}

/// Every device's visits reached the database with the bursts' notes (converged).
fn check_visits(storage: &dyn RelayStorage, fleet: &Fleet) {
    for t in &fleet.technicians {
        for order in &t.orders {
            let DocId::Order(order_id) = order else {
                unreachable!("prepare makes order ids")
            };
            let id = DocId::visit(order_id, &t.user_id);
            let bytes = storage
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
}
