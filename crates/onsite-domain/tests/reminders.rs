//! Maintenance reminders: due dates by calendar months (month ends included), due from local
//! midnight, counted from the last signed service or the purchase, listed under one stable key,
//! and no longer due once turned into an order or dismissed.

use onsite_domain::household::Household;
use onsite_domain::numbering::Date;
use onsite_domain::order::Order;
use onsite_domain::reminder::{self, Since};
use onsite_domain::sla::SlaPolicy;
use onsite_domain::visit::Visit;
use onsite_domain::{Code, HOUR, Millis, seed};

const CN: Millis = 8 * HOUR;
const DAY_MS: Millis = 24 * HOUR;

fn date(y: i32, m: u32, d: u32) -> Date {
    Date::new(y, m, d).expect("a real date")
}

/// Local midnight in China of `y-m-d`.
fn cn_midnight(y: i32, m: u32, d: u32) -> Millis {
    reminder::local_midnight(date(y, m, d), CN)
}

/// Demo household 1 with only a water purifier bought at `bought`.
fn household(bought: Millis) -> Household {
    let mut h = seed::household(0, bought);
    h.appliances.truncate(1);
    h.appliances[0].category = "water-purifier".into();
    h.appliances[0].purchase_date_ms = Some(bought);
    h.appliances[0].warranty_until_ms = None;
    h
}

fn settings() -> onsite_domain::service::ServiceSettings {
    seed::service_settings(0)
}

#[test]
fn months_are_added_on_the_calendar_and_month_ends_clamp() {
    let cases = [
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2026, 3, 31), 6, date(2026, 9, 30)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 7, 1), 18, date(2028, 1, 1)),
    ];
    for (from, months, to) in cases {
        assert_eq!(
            reminder::add_months(from, months),
            to,
            "{from:?} + {months} months"
        );
    }
}

#[test]
fn a_reminder_is_due_from_local_midnight_of_its_due_date() {
    let bought = cn_midnight(2026, 6, 30) + 15 * HOUR;
    let h = household(bought);
    let s = settings();
    let r = reminder::next(&s, &h.household_id, &h.appliances[0], &[], &[], CN)
        .expect("a purifier has an interval");
    assert_eq!(
        r.due_date, "2026-12-30",
        "six months after the purchase date"
    );
    assert_eq!(
        r.key,
        format!("hh-1:{}:2026-12-30", h.appliances[0].id),
        "the stable key"
    );
    assert_eq!(
        r.since,
        Since::Purchase,
        "never serviced: counted from the purchase"
    );
    let at = cn_midnight(2026, 12, 30);
    let hs = std::slice::from_ref(&h);
    assert!(
        reminder::due(&s, hs, &[], &[], at - 1, CN).is_empty(),
        "not due the evening before"
    );
    assert_eq!(
        reminder::due(&s, hs, &[], &[], at, CN),
        vec![r.clone()],
        "due at local midnight"
    );
    assert_eq!(
        reminder::due(&s, hs, &[], &[], at + 40 * DAY_MS, CN),
        vec![r],
        "still the same reminder, same key, weeks later"
    );
}

#[test]
fn appliances_without_an_interval_or_a_date_have_none() {
    let mut h = household(cn_midnight(2025, 1, 1));
    h.appliances[0].category = "washer".into();
    let s = settings();
    assert!(
        reminder::next(&s, "hh-1", &h.appliances[0], &[], &[], CN).is_none(),
        "no washer interval"
    );
    h.appliances[0].category = "water-purifier".into();
    h.appliances[0].purchase_date_ms = None;
    assert!(
        reminder::next(&s, "hh-1", &h.appliances[0], &[], &[], CN).is_none(),
        "neither serviced nor bought on a known date"
    );
}

/// A signed visit on `order` at `at`.
fn signed_visit(order: &Order, at: Millis) -> Visit {
    let library = onsite_domain::templates::builtin_library();
    let mut v = Visit::start(order, "tech.a", &library).expect("a visit starts");
    v.signature = Some(onsite_domain::visit::Signature {
        record_hash: "h".into(),
        signer_name: "张伟".into(),
        technician_name: "甲".into(),
        certificate_id: "HC-1".into(),
        image_sha256: "s".into(),
        signed_at_ms: at,
        sections: Default::default(),
        reopened_at_ms: None,
        reopen_reason: String::new(),
    });
    v
}

#[test]
fn ordering_a_reminder_stops_it_until_the_next_service_moves_the_date() {
    let h0 = household(cn_midnight(2026, 1, 10));
    let s = settings();
    let now = cn_midnight(2026, 7, 20);
    let due = reminder::due(&s, std::slice::from_ref(&h0), &[], &[], now, CN);
    assert_eq!(due.len(), 1, "the purifier is due since 10 July");
    let r = &due[0];
    let mut h = h0.clone();
    let new = h
        .order_for(reminder::order_request(r, "o-r1", "WO-20260720-AB-0001"))
        .expect("the household builds the order");
    let order = Order::create(new, &SlaPolicy::default(), now).expect("the order is valid");
    assert_eq!(
        order.problem, s.maintenance[1].task,
        "the order is about the interval's task"
    );
    reminder::mark_ordered(&mut h, r, &order.order_id, "disp", now).expect("recorded");
    let orders = [order];
    assert!(
        reminder::due(&s, std::slice::from_ref(&h), &orders, &[], now, CN).is_empty(),
        "an ordered reminder is no longer due"
    );
    assert!(
        reminder::due(&s, std::slice::from_ref(&h0), &orders, &[], now, CN).is_empty(),
        "an order under way on the appliance also keeps it off the list"
    );
    let done = cn_midnight(2026, 7, 25) + 10 * HOUR;
    let visits = [signed_visit(&orders[0], done)];
    let next = reminder::next(&s, "hh-1", &h.appliances[0], &orders, &visits, CN).unwrap();
    assert_eq!(
        (next.since, next.due_date.as_str()),
        (Since::LastService, "2027-01-25"),
        "from the service"
    );
    assert_ne!(next.key, r.key, "a new due date is a new reminder");
    assert!(
        reminder::due(
            &s,
            std::slice::from_ref(&h),
            &orders,
            &visits,
            cn_midnight(2027, 1, 25),
            CN
        ) == vec![next],
        "the next one comes due in its time"
    );
    assert_eq!(
        reminder::mark_ordered(&mut h, r, "o-r2", "disp", now).map_err(|e| e.code()),
        Err(Code::ReminderNotDue),
        "a reminder is turned into an order once"
    );
}

#[test]
fn open_reminders_are_the_due_ones_and_those_still_to_come() {
    let bought = cn_midnight(2026, 1, 10);
    let mut h = household(bought);
    let mut later = h.appliances[0].clone();
    later.id = format!("{}-2", later.id);
    later.purchase_date_ms = Some(cn_midnight(2026, 5, 3));
    h.appliances.push(later);
    let s = settings();
    let hs = std::slice::from_ref(&h);
    let open = reminder::open(&s, hs, &[], &[], CN);
    assert_eq!(
        open.iter().map(|r| r.due_date.as_str()).collect::<Vec<_>>(),
        ["2026-07-10", "2026-11-03"],
        "each appliance's next reminder, earliest first, whatever the time"
    );
    let now = cn_midnight(2026, 8, 1);
    assert_eq!(
        reminder::due(&s, hs, &[], &[], now, CN),
        open[..1],
        "due = the open ones whose time has come"
    );
    let mut handled = h.clone();
    reminder::dismiss(&mut handled, &open[0], "客户已自行更换滤芯", "disp", now).unwrap();
    assert_eq!(
        reminder::open(&s, std::slice::from_ref(&handled), &[], &[], CN),
        open[1..],
        "a handled reminder is no longer open: only the one still to come is"
    );
}

#[test]
fn dismissing_needs_a_reason_and_is_recorded_once() {
    let mut h = household(cn_midnight(2026, 1, 10));
    let s = settings();
    let now = cn_midnight(2026, 8, 1);
    let r = reminder::due(&s, std::slice::from_ref(&h), &[], &[], now, CN).remove(0);
    let before = h.clone();
    assert_eq!(
        reminder::dismiss(&mut h, &r, "  ", "disp", now).map_err(|e| e.code()),
        Err(Code::ReminderReasonRequired),
        "a reason is required"
    );
    assert_eq!(h, before, "nothing recorded when refused");
    reminder::dismiss(&mut h, &r, "客户已自行更换滤芯", "disp", now).expect("dismissed");
    assert!(
        reminder::due(&s, std::slice::from_ref(&h), &[], &[], now, CN).is_empty(),
        "dismissed: not due"
    );
    assert_eq!(
        reminder::find_due(&s, &h, &[], &[], &r.key, now, CN).map_err(|e| e.code()),
        Err(Code::ReminderNotDue),
        "and cannot be acted on again"
    );
    assert_eq!(
        h.reminders[0].reason, "客户已自行更换滤芯",
        "the reason is kept"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 128, .. Default::default() })]

    /// Listed once: evaluated at any series of times, the appliance's reminder is absent before
    /// its due instant, then present under one and the same key at every later evaluation, and
    /// never twice in one list; the due date keeps the day unless the month is shorter.
    #[test]
    fn a_reminder_is_listed_under_one_key_from_its_due_time_on(
        bought_days in 0i64..3_000,
        hour in 0i64..24,
        steps in proptest::collection::vec(1i64..40 * DAY_MS, 1..12),
    ) {
        let bought = cn_midnight(2020, 1, 1) + bought_days * DAY_MS + hour * HOUR;
        let h = household(bought);
        let s = settings();
        let r = reminder::next(&s, "hh-1", &h.appliances[0], &[], &[], CN).unwrap();
        let from = Date::local(bought, 8 * 60);
        let to = Date::local(r.due_at_ms, 8 * 60);
        let month_end = Date::new(to.year, to.month, to.day + 1).is_none();
        proptest::prop_assert!(
            to.day == from.day || (to.day < from.day && month_end),
            "{from:?} → {to:?}: the same day, or the last day of a shorter month"
        );
        let months = (to.year - from.year) * 12 + to.month as i32 - from.month as i32;
        proptest::prop_assert_eq!(months, 6, "six calendar months for a purifier");
        let mut at = r.due_at_ms - 100 * DAY_MS;
        for step in steps {
            at += step;
            let due = reminder::due(&s, std::slice::from_ref(&h), &[], &[], at, CN);
            proptest::prop_assert!(due.len() <= 1);
            proptest::prop_assert_eq!(!due.is_empty(), at >= r.due_at_ms);
            if let Some(d) = due.first() {
                proptest::prop_assert_eq!(&d.key, &r.key);
            }
        }
    }
}
