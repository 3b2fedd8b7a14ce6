//! Clock skew (issue 12 §4): a dispatcher's device four hours behind the relay and a
//! technician's five hours ahead. Both stamp what happens with the relay's time (the offset its
//! answers' `Date` showed, `onsite_client::ClockOffset`), so the order's SLA deadlines and the
//! visit's timeline read as they happened; a clock set back while offline neither reorders the
//! timeline nor refuses the next step. The relay here runs on the wall clock, so the devices'
//! clocks are the wall clock plus their skew.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use onsite_app::App;
use onsite_app::view::*;
use onsite_domain::order::{Order, Tier};
use onsite_domain::progress::{self, ProgressKind};
use onsite_domain::reference::ServiceType;
use onsite_domain::sla::SlaPolicy;
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, HOUR, Millis};
use onsite_testkit::clock::wall_clock_day;
use onsite_testkit::relay::{Seeded, wait_for};

/// Real time; only this test (and the real-window one) reads it: the relay's `Date` does.
fn wall_now() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as Millis
}

/// A device whose clock is the wall clock plus `skew` (which the test may change).
async fn device(seeded: &Seeded, name: &str, user: &str, skew: Arc<AtomicI64>) -> App {
    let clock = Arc::new(move || wall_now() + skew.load(Ordering::SeqCst));
    let app = App::open(&seeded.dir.path().join(name), clock)
        .expect("open the app")
        .with_utc_offset_minutes(0)
        .with_sync_config(common::fast_sync())
        .follow_relay_clock();
    common::sign_in(&app, &seeded.url, user).await;
    app
}

/// `at` is within a few seconds of `real` (the offset comes from whole-second `Date`s).
fn close_to(at: Millis, real: Millis, what: &str) {
    assert!(
        (at - real).abs() < 5_000,
        "{what} is stamped with the relay's time: {at} vs {real} ({} h off)",
        (at - real) as f64 / HOUR as f64
    );
}

fn new_order(now: Millis) -> NewOrderRequest {
    NewOrderRequest {
        household_id: None,
        customer_name: "钱芳".to_owned(),
        phone: "13800000123".to_owned(),
        address: "上海市徐汇区漕溪北路 88 号".to_owned(),
        tier: Tier::Gold,
        notes: String::new(),
        appliance_id: None,
        new_appliance: Some(ApplianceInput {
            category: "washer".to_owned(),
            brand: "Haier".to_owned(),
            model: "EG100".to_owned(),
            serial: "SW0000000777".to_owned(),
        }),
        service_type: ServiceType::Repair,
        problem: "洗衣机漏水 / washer leaks".to_owned(),
        window: Some(WindowInput {
            start_ms: now + HOUR,
            end_ms: now + 3 * HOUR,
        }),
    }
}

fn step(app: &App, oid: &str, step: Step) {
    app.apply_edit(oid, EditRequest::Progress { step })
        .unwrap_or_else(|e| panic!("{step:?} must be recorded: {e:?}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hours_of_clock_skew_keep_sla_deadlines_and_the_visit_timeline_right() {
    let seeded = Seeded::start_on(wall_clock_day()).await;
    let disp_skew = Arc::new(AtomicI64::new(-4 * HOUR));
    let tech_skew = Arc::new(AtomicI64::new(5 * HOUR));
    let disp = device(&seeded, "disp", "disp", disp_skew).await;
    let tech = device(&seeded, "tech", "tech.a", tech_skew.clone()).await;
    // The dispatcher's first sync (a snapshot of its history window) brings the technicians'
    // profiles after the orders: assigning waits for tech.a's.
    wait_for("tech.a's profile on the dispatcher's device", || {
        disp.technicians()
            .map(|v| v.technicians.iter().any(|t| t.technician_id == "tech.a"))
            .unwrap_or(false)
    })
    .await;

    let created_real = wall_now();
    let created = disp.create_order(new_order(created_real)).expect("create");
    let oid = created.card.order_id.clone();
    let gold = SlaPolicy::default().gold;
    close_to(
        created.respond_by_ms - gold[0],
        created_real,
        "the order's creation",
    );
    close_to(
        created.arrive_by_ms - gold[1],
        created_real,
        "the arrival deadline's start",
    );
    disp.assign_order(&oid, "tech.a").expect("assign");
    disp.sync_now().expect("the dispatcher syncs");
    wait_for("the order to reach the technician", || {
        tech.order_detail(&oid).is_ok()
    })
    .await;

    let accepted_real = wall_now();
    step(&tech, &oid, Step::Accepted);
    step(&tech, &oid, Step::EnRoute);
    // Offline, the technician's clock is set back three hours (by hand, or by the network):
    // the offset learned at the last sync is now wrong by as much.
    tech.stop_sync();
    tech_skew.store(2 * HOUR, Ordering::SeqCst);
    step(&tech, &oid, Step::Arrived);
    step(&tech, &oid, Step::WorkStarted);
    assert!(tech.start_sync(), "back online");
    tech.sync_now().expect("the technician syncs");
    let done_real = wall_now();
    step(&tech, &oid, Step::WorkDone);
    tech.sync_now().expect("the technician syncs");

    let vid = DocId::visit(&oid, "tech.a");
    wait_for("the visit to reach the dispatcher with work done", || {
        disp.store()
            .lock()
            .expect("store")
            .read::<Visit>(&vid)
            .is_ok_and(|v| progress::current(&v.events) == Some(ProgressKind::WorkDone))
    })
    .await;
    let store = disp.store().lock().expect("store");
    let visit: Visit = store.read(&vid).expect("visit");
    let order: Order = store.read(&DocId::Order(oid.clone())).expect("order");
    let timeline = progress::ordered(&visit.events);
    let kinds: Vec<ProgressKind> = timeline.iter().map(|e| e.kind).collect();
    use ProgressKind::*;
    assert_eq!(
        kinds,
        [Accepted, EnRoute, Arrived, WorkStarted, WorkDone],
        "the timeline reads in the order the steps happened"
    );
    close_to(order.created_at_ms, created_real, "the order's creation");
    close_to(timeline[0].at_ms, accepted_real, "accepting");
    assert_eq!(
        timeline[2].at_ms, timeline[1].at_ms,
        "a step recorded with the clock set back takes the previous step's time, not an earlier one"
    );
    close_to(
        timeline[4].at_ms,
        done_real,
        "work done, after the offset was learned again",
    );
    let response = timeline[0].at_ms - order.created_at_ms;
    assert!(
        (-onsite_client::DEADBAND_MS..60_000).contains(&response),
        "the response time is the seconds it took (within the `Date` header's one-second \
         resolution on each device), not the nine hours between the clocks ({response} ms)"
    );
}
