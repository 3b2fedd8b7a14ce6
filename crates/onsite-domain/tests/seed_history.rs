//! The demo history (`seed_history`): every job is built and signed through the rules, and the
//! months it fills give the statistics something to show — figures that vary between months and
//! technicians rather than a wall of 100 % and 5★.

use std::collections::BTreeSet;

use onsite_domain::seed_history::{self, HISTORY_JOBS, HistoryContext};
use onsite_domain::sla::SlaPolicy;
use onsite_domain::stats::{self, Month, StatsContext};
use onsite_domain::{HOUR, Millis, seed, templates};
use onsite_testkit::DAY;

const CN: Millis = 8 * HOUR;

fn history() -> (
    Vec<onsite_domain::order::Order>,
    Vec<onsite_domain::visit::Visit>,
) {
    let library = templates::builtin_library();
    let fees = seed::fee_schedule(DAY - seed::YEAR);
    let parts = seed::parts_catalogue();
    let techs = [
        seed::technician("tech.a", "张", "13900000001", "C-1", DAY),
        seed::technician("tech.b", "李", "13900000002", "C-2", DAY),
    ];
    let ctx = HistoryContext {
        library: &library,
        fees: &fees,
        parts: &parts,
        technicians: &techs,
        signature_sha256: &"5d".repeat(32),
        device_id: "seed",
    };
    seed_history::jobs(&ctx, DAY)
        .expect("every history job passes the edit rules")
        .into_iter()
        .unzip()
}

#[test]
fn every_job_is_signed_before_the_demo_day_and_the_same_on_every_run() {
    let (orders, visits) = history();
    assert_eq!(orders.len(), HISTORY_JOBS as usize);
    for v in &visits {
        let sig = v.signature.as_ref().expect("a history visit is signed");
        assert!(sig.signed_at_ms < DAY, "history ends before the demo day");
    }
    let ids: BTreeSet<&str> = orders.iter().map(|o| o.order_no.as_str()).collect();
    assert_eq!(ids.len(), orders.len(), "order numbers are unique");
    let (again, _) = history();
    assert_eq!(orders, again, "the history is deterministic");
}

#[test]
fn the_history_months_vary_by_technician_and_month() {
    let (orders, visits) = history();
    let fees = seed::fee_schedule(DAY - seed::YEAR);
    let parts = seed::parts_catalogue();
    let ctx = StatsContext {
        orders: &orders,
        visits: &visits,
        policy: &SlaPolicy::PUBLISHED,
        parts: &parts,
        fees: &fees,
        utc_offset_ms: CN,
    };
    let mut month = Month::of(DAY - 1, CN);
    let mut centre = Vec::new();
    for _ in 0..3 {
        let m = stats::month_stats(&ctx, month);
        assert_eq!(
            m.technicians.len(),
            2,
            "both technicians worked in {month:?}"
        );
        for t in &m.technicians {
            assert!(
                t.figures.completed >= 5,
                "{} completed {} in {month:?}: enough for the bonus terms",
                t.technician_id,
                t.figures.completed
            );
        }
        centre.push(m.centre);
        month = month.previous();
    }
    let all = stats::completions(&orders, &visits);
    let stars: BTreeSet<u32> = visits
        .iter()
        .filter_map(|v| v.rating.as_ref().map(|r| r.stars))
        .collect();
    assert!(stars.len() >= 4, "ratings spread over 1–5★, got {stars:?}");
    let repeats = all.iter().filter(|c| stats::has_repeat(c, &orders)).count();
    assert!(
        (2..all.len() / 4).contains(&repeats),
        "a few repeat repairs, got {repeats} of {}",
        all.len()
    );
    let late = centre
        .iter()
        .map(|f| f.response_met.denominator - f.response_met.numerator);
    assert!(late.sum::<u32>() > 0, "some responses were late");
    let arrived_late = centre
        .iter()
        .map(|f| f.arrival_met.denominator - f.arrival_met.numerator);
    assert!(arrived_late.sum::<u32>() > 0, "some arrivals were late");
    assert!(
        centre
            .iter()
            .all(|f| f.parts_cost_cents > 0 && f.parts_unpriced_lines == 0),
        "repairs used catalogue parts every month"
    );
    assert!(
        centre[0].all_met != centre[1].all_met || centre[1].all_met != centre[2].all_met,
        "the commitment kept differs between months"
    );
}

#[test]
fn the_trend_and_the_star_distribution_recount_the_signed_visits() {
    let (orders, visits) = history();
    let fees = seed::fee_schedule(DAY - seed::YEAR);
    let parts = seed::parts_catalogue();
    let ctx = StatsContext {
        orders: &orders,
        visits: &visits,
        policy: &SlaPolicy::PUBLISHED,
        parts: &parts,
        fees: &fees,
        utc_offset_ms: CN,
    };
    let last = Month::of(DAY - 1, CN);
    let trend = stats::monthly(&ctx, last, 6, None);
    assert_eq!(trend.len(), 6, "six months asked, six given");
    assert_eq!(trend[5].0, last, "the trend ends with the month asked for");
    assert!(
        trend.windows(2).all(|w| w[0].0.next() == w[1].0),
        "months in order, none skipped"
    );
    for (month, figures) in &trend {
        let signed: Vec<_> = visits
            .iter()
            .filter(|v| {
                v.signature
                    .as_ref()
                    .is_some_and(|s| Month::of(s.signed_at_ms, CN) == *month)
            })
            .collect();
        assert_eq!(
            figures.completed as usize,
            signed.len(),
            "completed in {month:?}"
        );
        let mut want = [0u32; 5];
        for v in &signed {
            want[v.rating.as_ref().expect("rated").stars as usize - 1] += 1;
        }
        assert_eq!(
            stats::star_distribution(&ctx, *month, None),
            want,
            "1–5★ counts of {month:?} are the ratings of its signed visits"
        );
        let tech_a: u32 = stats::star_distribution(&ctx, *month, Some("tech.a"))
            .iter()
            .sum();
        let want_a = signed
            .iter()
            .filter(|v| v.technician_id == "tech.a")
            .count();
        assert_eq!(tech_a as usize, want_a, "tech.a's ratings in {month:?}");
    }
}

#[test]
fn the_follow_up_calls_older_than_a_week_were_made_mostly_to_satisfied_customers() {
    use onsite_domain::followup::{self, FollowUpState};
    use seed_history::{CALLS_OPEN_DAYS, NO_ANSWER_EVERY};
    let (orders, visits) = history();
    let settings = seed::service_settings(DAY - 90 * 24 * HOUR);
    let mut jobs: Vec<_> = orders.into_iter().zip(visits).collect();
    seed_history::answer_calls(&mut jobs, &settings, DAY).expect("every call is recordable");
    let (orders, visits): (Vec<_>, Vec<_>) = jobs.into_iter().unzip();
    let all = followup::follow_ups(&orders, &visits, &settings);
    let week_ago = DAY - CALLS_OPEN_DAYS * 24 * HOUR;
    let (old, recent): (Vec<_>, Vec<_>) = all.iter().partition(|f| f.signed_at_ms < week_ago);
    assert!(
        !recent.is_empty() && recent.iter().all(|f| f.is_open() && f.attempts == 0),
        "the last week's calls are still to make: {recent:?}"
    );
    let satisfied = old
        .iter()
        .filter(|f| f.state == FollowUpState::Satisfied)
        .count();
    let unanswered: Vec<_> = old.iter().filter(|f| f.is_open()).collect();
    assert_eq!(
        satisfied + unanswered.len(),
        old.len(),
        "no complaints invented: {old:?}"
    );
    assert_eq!(
        unanswered.len(),
        old.len() / NO_ANSWER_EVERY,
        "one call in {NO_ANSWER_EVERY} went unanswered"
    );
    assert!(
        unanswered.iter().all(|f| f.attempts == 1),
        "an unanswered call counts its attempt and stays open for another try: {unanswered:?}"
    );
    assert!(
        satisfied > 20,
        "most of the history's customers were satisfied: {satisfied} of {}",
        old.len()
    );
}
