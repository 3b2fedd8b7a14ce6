//! The Onsite half of `bench/compare.sh` with tiny numbers, so the comparison's code cannot rot:
//! every scenario runs against an in-process relay behind the counting proxy and must converge.
//! Figures are printed, never asserted (`bench/compare.sh --smoke` runs both halves).

use onsite_bench::compare::workload::{self, Sizes};
use onsite_bench::compare::{COLD_RUNS, Scenario, onsite, table};
use onsite_bench::proc_stats::ProcStats;
use onsite_bench::wire_count::CountingProxy;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_onsite_half_converges_in_every_scenario() {
    let w = workload::generate(
        13,
        Sizes {
            orders: 12,
            scale_orders: 60,
            edits: 3,
        },
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("relay.sqlite3");
    onsite::prepare_database(&db, &w.completion.technician)
        .expect("accounts and reference documents");
    let relay = onsite_testkit::relay::start_relay(&db, "127.0.0.1:0".parse().unwrap()).await;
    let target = relay.url().trim_start_matches("http://").parse().unwrap();
    let proxy = CountingProxy::start(target).await.expect("proxy");
    let stats = || ProcStats::read(std::process::id()).unwrap_or_default();
    let run = onsite::run(&w, &stats, &proxy)
        .await
        .expect("every scenario runs");
    println!("{}", table(&run, &Default::default()));
    for (scenario, figures, check) in &run.results {
        assert!(check.converged(), "{scenario:?} must converge: {check:?}");
        assert!(
            figures.up + figures.down > 0,
            "{scenario:?} went over the wire through the proxy"
        );
    }
    assert_eq!(
        run.results.len(),
        Scenario::ALL.len() - 1 + COLD_RUNS,
        "all five scenarios ran, the cold download on {COLD_RUNS} fresh devices"
    );
    let cold = run.walls(Scenario::ColdDownload);
    let median = run
        .get(Scenario::ColdDownload)
        .expect("scenario 2")
        .1
        .wall_ms;
    assert_eq!(
        cold.iter().filter(|w| w.0 < median).count(),
        (COLD_RUNS - 1) / 2,
        "the cold download's figures are its median run's: {median} of {cold:?}"
    );
    let noop = run.get(Scenario::NoOp).expect("scenario 5");
    assert_eq!(noop.1.round_trips, Some(1), "a no-op sync is one request");
}
