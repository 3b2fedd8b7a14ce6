//! The history window (`retention`) over real jobs of the demo history: a signed job is settled
//! and its last activity is its signature; an open order is held however old.

use onsite_domain::order::{DispatchStatus, Order};
use onsite_domain::retention::{self, Job};
use onsite_domain::seed_history::{self, HistoryContext};
use onsite_domain::sla::SlaPolicy;
use onsite_domain::visit::Visit;
use onsite_domain::{Millis, seed, templates};
use onsite_testkit::DAY;

/// One day, in milliseconds (`DAY` is the tests' date).
const DAYS: Millis = 24 * onsite_domain::HOUR;

fn signed_job() -> (Order, Visit) {
    let library = templates::builtin_library();
    let fees = seed::fee_schedule(DAY - seed::YEAR);
    let parts = seed::parts_catalogue();
    let techs = [seed::technician("tech.a", "张", "13900000001", "C-1", DAY)];
    let ctx = HistoryContext {
        library: &library,
        fees: &fees,
        parts: &parts,
        technicians: &techs,
        signature_sha256: &"5d".repeat(32),
        device_id: "seed",
    };
    seed_history::job(&ctx, 3, DAY).expect("a history job passes the rules")
}

#[test]
fn a_signed_job_is_settled_and_last_active_when_its_newest_step_happened() {
    let (order, visit) = signed_job();
    let job = retention::job(&order, [&visit]);
    let signed = visit
        .signature
        .as_ref()
        .expect("history visits are signed")
        .signed_at_ms;
    assert!(job.settled, "a signed job is completed: settled");
    assert!(
        job.last_activity_ms >= signed,
        "the signature is activity: {} < {signed}",
        job.last_activity_ms
    );
    let newest_step = visit.events.iter().map(|e| e.at_ms).max().unwrap_or(0);
    assert_eq!(
        job.last_activity_ms,
        signed
            .max(newest_step)
            .max(order.status_changed_at_ms)
            .max(order.created_at_ms),
        "nothing later is written in the job"
    );
    let later = job.last_activity_ms + 90 * DAYS;
    assert!(retention::held(job, retention::cutoff(later, 90)));
    assert!(
        !retention::held(job, retention::cutoff(later + 1, 90)),
        "one millisecond after the window it is history"
    );
}

#[test]
fn an_open_order_is_held_and_a_follow_up_call_brings_a_job_back_into_the_window() {
    let (mut order, visit) = signed_job();
    let fresh = Order::create(seed::order(1, DAY), &SlaPolicy::PUBLISHED, DAY).expect("order");
    let open = retention::job(&fresh, std::iter::empty::<&Visit>());
    assert_eq!(
        open,
        Job {
            settled: false,
            last_activity_ms: DAY
        },
        "a new order is open work, active when created"
    );
    assert!(retention::held(
        open,
        retention::cutoff(DAY + 10_000 * DAYS, 90)
    ));
    let far: Millis = DAY + 2_000 * DAYS;
    order.status = DispatchStatus::Cancelled;
    order.status_changed_at_ms = far;
    let cancelled = retention::job(&order, [&visit]);
    assert_eq!(
        cancelled.last_activity_ms, far,
        "a cancellation is activity"
    );
    assert!(cancelled.settled);
}
