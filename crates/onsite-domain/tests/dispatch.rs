//! The dispatcher's rules on generated data: order numbers from two devices offline on the same
//! day, suggestions on seeded random days checked against expectations computed here
//! independently, and parts issue/return against a simple model of the stock.

use std::collections::{BTreeMap, BTreeSet};

use onsite_domain::ledger::{StockLedger, stock_levels};
use onsite_domain::numbering::{self, Date, OrderNo};
use onsite_domain::order::{DispatchStatus, Order, Window};
use onsite_domain::parts::{self, FaultyPart, Movement};
use onsite_domain::reference::{NotQualified, PartsCatalogue, ServiceType, TechnicianProfile};
use onsite_domain::sla::SlaPolicy;
use onsite_domain::suggest::{self, Day, Reason};
use onsite_domain::visit::{PartUse, StockSource, Visit};
use onsite_domain::{Code, HOUR, MINUTE, Millis, seed, templates};
use onsite_testkit::DAY;
use onsite_testkit::sim::Rng;
use proptest::prelude::*;

/// The demo company is on UTC+8.
const SHANGHAI: i32 = 8 * 60;

fn pick(rng: &mut Rng, n: usize) -> usize {
    (rng.next_u64() % n as u64) as usize
}

// ------------------------------------------------------------------ order numbers

#[test]
fn two_dispatchers_offline_on_the_same_day_never_share_a_number() {
    let mut rng = Rng(0x5eed_0001);
    let local_midnight = DAY - SHANGHAI as Millis * MINUTE;
    let mut devices: [(&str, Vec<String>); 2] = [("D1", Vec::new()), ("K7Q", Vec::new())];
    for _ in 0..1000 {
        let d = pick(&mut rng, 2);
        let (prefix, mine) = &mut devices[d];
        let now = local_midnight + (rng.next_u64() % (24 * HOUR as u64)) as Millis;
        let no = numbering::next_order_no(mine.iter().map(String::as_str), prefix, now, SHANGHAI)
            .expect("a valid prefix and fewer than 9999 orders a day get a number");
        mine.push(no.format());
    }
    // Top both up to 500 each, so the figure in the test name holds whatever the draw.
    for (prefix, mine) in &mut devices {
        while mine.len() < 500 {
            let no = numbering::next_order_no(
                mine.iter().map(String::as_str),
                prefix,
                local_midnight + 12 * HOUR,
                SHANGHAI,
            )
            .expect("next number");
            mine.push(no.format());
        }
    }
    let all: Vec<&String> = devices.iter().flat_map(|(_, m)| m).collect();
    let distinct: BTreeSet<&String> = all.iter().copied().collect();
    assert!(
        all.len() >= 1000,
        "both devices created at least 500 orders"
    );
    assert_eq!(distinct.len(), all.len(), "no order number repeats");
    for (prefix, mine) in &devices {
        let seqs: Vec<u32> = mine
            .iter()
            .map(|n| numbering::parse(n).expect("every number written parses"))
            .inspect(|n| {
                assert_eq!(n.prefix, *prefix, "a device writes only its own prefix");
                assert_eq!(
                    n.date,
                    Date::local(DAY, SHANGHAI),
                    "all on the service centre's local date"
                );
            })
            .map(|n| n.seq)
            .collect();
        let expected: Vec<u32> = (1..=seqs.len() as u32).collect();
        assert_eq!(
            seqs, expected,
            "{prefix}: 0001, 0002, … without gaps or repeats"
        );
    }
    // After syncing, each device also holds the other's numbers: its next one is still its own.
    let merged: Vec<&str> = all.iter().map(|s| s.as_str()).collect();
    let next = numbering::next_order_no(merged.iter().copied(), "D1", DAY, SHANGHAI).unwrap();
    assert!(
        !merged.contains(&next.format().as_str()),
        "the next number after a sync is new"
    );
}

fn order_no_strategy() -> impl Strategy<Value = OrderNo> {
    (
        1900i32..=2199,
        1u32..=12,
        1u32..=31,
        "[A-Z0-9]{2,6}",
        1u32..=numbering::MAX_SEQ,
    )
        .prop_filter_map("a real calendar day", |(y, m, d, prefix, seq)| {
            Some(OrderNo {
                date: Date::new(y, m, d)?,
                prefix,
                seq,
            })
        })
}

proptest! {
    #[test]
    fn parse_reads_back_what_format_wrote(no in order_no_strategy()) {
        prop_assert_eq!(numbering::parse(&no.format()), Ok(no.clone()));
    }

    #[test]
    fn parse_never_panics_and_accepts_only_what_format_writes(text in "\\PC{0,30}") {
        if let Ok(no) = numbering::parse(&text) {
            prop_assert_eq!(no.format(), text, "only the canonical form parses");
        }
    }

    #[test]
    fn the_local_date_is_the_utc_date_of_the_shifted_instant(
        at in -4_000_000_000_000i64..8_000_000_000_000,
        offset in -12 * 60..=14 * 60,
    ) {
        let shifted = at + offset as Millis * MINUTE;
        let a = Date::local(at, offset);
        let b = Date::local(shifted, 0);
        prop_assert_eq!(a, b);
        // The day after is a real date and follows it.
        let next = Date::local(shifted + 24 * HOUR, 0);
        prop_assert!(next > a, "{next:?} follows {a:?}");
    }
}

// ------------------------------------------------------------------ suggestions

const DISTRICTS: [&str; 4] = ["浦东新区", "徐汇区", "静安区", "闵行区"];

/// A technician in the generated world, with what the test knows about them.
struct GenTech {
    profile: TechnicianProfile,
    /// Index into [`DISTRICTS`] of each of their orders that day.
    districts: Vec<usize>,
    windows: Vec<Window>,
}

fn new_order(n: u32, district: usize, service_type: ServiceType, created: Millis) -> Order {
    let mut new = seed::order(n, DAY);
    new.customer.address = format!("上海市{}测试路{}号", DISTRICTS[district], n);
    new.service_type = service_type;
    new.schedule = None;
    Order::create(new, &SlaPolicy::PUBLISHED, created).expect("a generated order is valid")
}

/// Slots are quarter hours, so a brute-force scan in quarter hours finds every free start.
const SLOT: Millis = 15 * MINUTE;

fn generate_day(rng: &mut Rng, day_no: u32) -> (Vec<GenTech>, Vec<Order>) {
    let mut techs = Vec::new();
    let mut orders = Vec::new();
    let count = 3 + pick(rng, 6);
    for t in 0..count {
        let id = format!("tech.{day_no}.{t:02}");
        let mut profile = seed::technician(&id, &format!("师傅{t}"), "139", "HC", DAY - HOUR);
        match pick(rng, 10) {
            0 => profile.certificate_expiry_ms = DAY - HOUR,
            1 => profile.certificate_withdrawn_at_ms = Some(DAY),
            2 => profile.qualifications = vec![ServiceType::Installation],
            _ => {}
        }
        let mut g = GenTech {
            profile,
            districts: Vec::new(),
            windows: Vec::new(),
        };
        // Back-to-back or spaced jobs from 08:00, two hours at most each.
        let mut at = DAY + 8 * HOUR;
        for _ in 0..pick(rng, 5) {
            at += pick(rng, 5) as Millis * SLOT;
            let len = (2 + pick(rng, 7)) as Millis * SLOT;
            let district = pick(rng, DISTRICTS.len());
            let n = 1000 * day_no + orders.len() as u32;
            let mut o = new_order(n, district, ServiceType::Repair, DAY);
            o.assignee = Some(id.clone());
            let window = Window {
                start_ms: at,
                end_ms: at + len,
            };
            o.schedule = Some(window);
            if pick(rng, 12) == 0 {
                o.status = DispatchStatus::Cancelled;
            } else {
                g.districts.push(district);
                g.windows.push(window);
            }
            orders.push(o);
            at += len;
        }
        techs.push(g);
    }
    (techs, orders)
}

/// Independently: the first quarter-hour start from `from` whose `duration` overlaps no window.
fn first_free_by_scan(
    windows: &[Window],
    work: Window,
    from: Millis,
    duration: Millis,
) -> Option<Millis> {
    let earliest = from.max(work.start_ms);
    let mut start = (earliest + SLOT - 1).div_euclid(SLOT) * SLOT;
    while start + duration <= work.end_ms {
        let end = start + duration;
        if windows
            .iter()
            .all(|w| end <= w.start_ms || w.end_ms <= start)
        {
            return Some(start);
        }
        start += SLOT;
    }
    None
}

#[test]
fn suggestions_on_generated_days_match_independent_expectations() {
    let mut rng = Rng(0x00d1_5fa7_c4e5);
    let work = Window {
        start_ms: DAY + 8 * HOUR,
        end_ms: DAY + 18 * HOUR,
    };
    // How often each rule decided between neighbours, and how many were set apart.
    let mut decided_by = [0usize; 5];
    let mut set_apart = 0;
    for day_no in 0..300u32 {
        let (techs, orders) = generate_day(&mut rng, day_no);
        let district = pick(&mut rng, DISTRICTS.len());
        let tier_created = DAY + (pick(&mut rng, 40) as Millis) * SLOT;
        let mut order = new_order(
            999_000 + day_no,
            district,
            ServiceType::Repair,
            tier_created,
        );
        order.customer.tier = [
            onsite_domain::order::Tier::Standard,
            onsite_domain::order::Tier::Gold,
            onsite_domain::order::Tier::Platinum,
        ][pick(&mut rng, 3)];
        order.sla = SlaPolicy::PUBLISHED.targets(order.customer.tier, tier_created);
        let duration = (2 + pick(&mut rng, 8)) as Millis * SLOT;
        let now = DAY + 7 * HOUR + pick(&mut rng, 30) as Millis * SLOT;
        let profiles: Vec<TechnicianProfile> = techs.iter().map(|t| t.profile.clone()).collect();
        let plan = Day {
            orders: &orders,
            work,
            duration_ms: duration,
        };
        let got = suggest::suggest(&order, &profiles, &plan, now);
        let expectations = check_day(day_no, &techs, &order, &plan, now, &got);
        for e in expectations.windows(2) {
            let rule = [
                e[0].meets != e[1].meets,
                e[0].same_district != e[1].same_district,
                e[0].load != e[1].load,
                e[0].free_start != e[1].free_start,
                true,
            ];
            decided_by[rule.iter().position(|&d| d).unwrap_or(4)] += 1;
        }
        set_apart += got.unqualified.len();
        // Any input order gives the same answer.
        let mut shuffled = profiles.clone();
        shuffled.reverse();
        let turn = pick(&mut rng, shuffled.len());
        shuffled.rotate_left(turn);
        assert_eq!(
            suggest::suggest(&order, &shuffled, &plan, now),
            got,
            "day {day_no}: the ranking does not depend on the order technicians are listed in"
        );
    }
    assert!(
        decided_by.iter().all(|&n| n > 0) && set_apart > 0,
        "the generated days exercise every rule (deadline, district, load, window, id: \
         {decided_by:?}) and unqualified technicians ({set_apart})"
    );
}

/// What the test expects of one technician, computed without the suggestion module.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Expect {
    meets: bool,
    same_district: bool,
    load: usize,
    free_start: Option<Millis>,
}

fn expect(t: &GenTech, order: &Order, plan: &Day<'_>, district: usize, now: Millis) -> Expect {
    let free_start = first_free_by_scan(&t.windows, plan.work, now, plan.duration_ms);
    Expect {
        meets: free_start.is_some_and(|s| {
            s <= order.sla.arrive_by_ms && s + plan.duration_ms <= order.sla.complete_by_ms
        }),
        same_district: t.districts.contains(&district),
        load: t.windows.len(),
        free_start,
    }
}

fn check_day(
    day_no: u32,
    techs: &[GenTech],
    order: &Order,
    plan: &Day<'_>,
    now: Millis,
    got: &suggest::Suggestions,
) -> Vec<Expect> {
    let district = DISTRICTS
        .iter()
        .position(|d| order.customer.address.contains(d))
        .expect("generated address names its district");
    let by_id: BTreeMap<&str, &GenTech> = techs
        .iter()
        .map(|t| (t.profile.technician_id.as_str(), t))
        .collect();
    let expected_unqualified: BTreeMap<&str, NotQualified> = techs
        .iter()
        .filter_map(|t| {
            let p = &t.profile;
            let why = if p.certificate_withdrawn_at_ms.is_some_and(|w| w <= now) {
                NotQualified::CertificateWithdrawn
            } else if now >= p.certificate_expiry_ms {
                NotQualified::CertificateExpired
            } else if !p.qualifications.contains(&order.service_type) {
                NotQualified::NotCovered
            } else {
                return None;
            };
            Some((p.technician_id.as_str(), why))
        })
        .collect();
    let got_unqualified: BTreeMap<&str, NotQualified> = got
        .unqualified
        .iter()
        .map(|u| (u.technician_id.as_str(), u.why))
        .collect();
    assert_eq!(
        got_unqualified, expected_unqualified,
        "day {day_no}: exactly the unqualified technicians are set apart, with why"
    );
    assert_eq!(
        got.ranked.len() + got.unqualified.len(),
        techs.len(),
        "day {day_no}: every technician appears once"
    );
    let expectations: Vec<Expect> = got
        .ranked
        .iter()
        .map(|s| {
            assert!(
                !expected_unqualified.contains_key(s.technician_id.as_str()),
                "day {day_no}: unqualified {} is never ranked",
                s.technician_id
            );
            let e = expect(by_id[s.technician_id.as_str()], order, plan, district, now);
            assert_eq!(
                (s.meets_deadline, s.same_district, s.load as usize),
                (e.meets, e.same_district, e.load),
                "day {day_no}: facts about {}",
                s.technician_id
            );
            assert_eq!(
                s.free_window.map(|w| w.start_ms),
                e.free_start,
                "day {day_no}: earliest free window of {}",
                s.technician_id
            );
            check_reasons(day_no, s, &e);
            e
        })
        .collect();
    for (pair, e) in got.ranked.windows(2).zip(expectations.windows(2)) {
        let (a, b) = (&pair[0], &pair[1]);
        let key = |e: &Expect, id: &str| {
            (
                !e.meets,
                !e.same_district,
                e.load,
                e.free_start.unwrap_or(Millis::MAX),
                id.to_owned(),
            )
        };
        assert!(
            key(&e[0], &a.technician_id) < key(&e[1], &b.technician_id),
            "day {day_no}: {} ({:?}) must rank above {} ({:?}): deadline, then district at equal \
             deadline, then load, then earlier window, then id",
            a.technician_id,
            e[0],
            b.technician_id,
            e[1]
        );
    }
    expectations
}

fn check_reasons(day_no: u32, s: &suggest::Suggestion, e: &Expect) {
    assert!(
        matches!(s.reasons.first(), Some(Reason::CertificateValid { .. })),
        "day {day_no}: a ranked technician's certificate is valid: {:?}",
        s.reasons
    );
    let window_reason = s.reasons.iter().find(|r| {
        matches!(
            r,
            Reason::FreeBeforeDeadline { .. }
                | Reason::FreeAfterDeadline { .. }
                | Reason::NoFreeWindow
        )
    });
    match (e.free_start, e.meets, window_reason) {
        (Some(start), true, Some(Reason::FreeBeforeDeadline { start_ms, .. }))
        | (Some(start), false, Some(Reason::FreeAfterDeadline { start_ms, .. })) => {
            assert_eq!(
                *start_ms, start,
                "day {day_no}: the window named is the earliest"
            )
        }
        (None, false, Some(Reason::NoFreeWindow)) => {}
        other => panic!(
            "day {day_no}: wrong window reason for {}: {other:?}",
            s.technician_id
        ),
    }
    assert_eq!(
        s.reasons
            .iter()
            .any(|r| matches!(r, Reason::SameDistrict { .. })),
        e.same_district,
        "day {day_no}: the district reason is given exactly when it holds"
    );
    assert!(
        s.reasons.contains(&Reason::Load {
            orders: e.load as u32
        }),
        "day {day_no}: the load is stated"
    );
}

#[test]
fn reasons_cross_to_the_ui_tagged_by_kind() {
    let json = serde_json::to_value(Reason::SameDistrict {
        district: "浦东新区".into(),
        orders: 2,
    })
    .expect("serialise");
    assert_eq!(
        json,
        serde_json::json!({"kind": "SameDistrict", "district": "浦东新区", "orders": 2}),
        "PascalCase kind like the other enums, fields in snake_case"
    );
}

// ------------------------------------------------------------------ parts issue and return

fn mv<'a>(id: &'a str, part_no: &'a str, qty: i64, note: &'a str) -> Movement<'a> {
    Movement {
        id,
        part_no,
        qty,
        by: "disp",
        note,
        at_ms: DAY,
    }
}

fn visit_with_parts(order_id: &str, tech: &str, lines: &[(&str, &str, i64, &str)]) -> Visit {
    let mut order = new_order(1, 0, ServiceType::Repair, DAY);
    order.order_id = order_id.to_owned();
    let mut v = Visit::start(&order, tech, &templates::builtin_library()).expect("start");
    for (id, part_no, qty, faulty) in lines {
        v.parts.push(PartUse {
            id: (*id).to_owned(),
            part_no: (*part_no).to_owned(),
            name_zh_cn: String::new(),
            name_en: String::new(),
            qty: *qty,
            unit_price_cents: 100,
            faulty_serial: (*faulty).to_owned(),
            replacement_serial: String::new(),
            source: StockSource::Personal,
        });
    }
    v
}

fn faulty<'a>(serial: &'a str, order_id: &'a str) -> FaultyPart<'a> {
    FaultyPart {
        id: "f1",
        order_id,
        serial,
        by: "disp",
        note: "",
        at_ms: DAY,
    }
}

/// Three capacitors issued to `tech.a`, one of them used on order `o-1` replacing `CAP-OLD-1`.
fn one_capacitor_used() -> (PartsCatalogue, StockLedger, [Visit; 1]) {
    let catalogue = seed::parts_catalogue();
    let mut ledger = StockLedger::new("tech.a");
    parts::issue(&mut ledger, &catalogue, &mv("e1", "AC-CAP-35UF", 3, "")).expect("issue 3");
    let visits = [visit_with_parts(
        "o-1",
        "tech.a",
        &[("l1", "AC-CAP-35UF", 1, "CAP-OLD-1")],
    )];
    assert_eq!(
        stock_levels(&ledger, &visits)["AC-CAP-35UF"],
        2,
        "3 issued − 1 used on site"
    );
    (catalogue, ledger, visits)
}

#[test]
fn bad_movements_are_refused_with_their_code_and_change_nothing() {
    let (catalogue, mut ledger, visits) = one_capacitor_used();
    let levels = stock_levels(&ledger, &visits);
    let before = ledger.clone();
    let cases: Vec<(&str, Result<(), onsite_domain::DomainError>, Code)> = vec![
        (
            "issue 0",
            parts::issue(&mut ledger, &catalogue, &mv("x", "AC-CAP-35UF", 0, "")),
            Code::InputBadQuantity,
        ),
        (
            "issue −1",
            parts::issue(&mut ledger, &catalogue, &mv("x", "AC-CAP-35UF", -1, "")),
            Code::InputBadQuantity,
        ),
        (
            "issue unknown part",
            parts::issue(&mut ledger, &catalogue, &mv("x", "NOPE", 1, "")),
            Code::PartsUnknownPart,
        ),
        (
            "reuse an entry id",
            parts::issue(&mut ledger, &catalogue, &mv("e1", "AC-CAP-35UF", 1, "")),
            Code::InputDuplicateId,
        ),
        (
            "return 0",
            parts::return_unused(
                &mut ledger,
                &catalogue,
                &levels,
                &mv("x", "AC-CAP-35UF", 0, ""),
            ),
            Code::InputBadQuantity,
        ),
        (
            "return more than held",
            parts::return_unused(
                &mut ledger,
                &catalogue,
                &levels,
                &mv("x", "AC-CAP-35UF", 3, ""),
            ),
            Code::PartsMoreThanHeld,
        ),
        (
            "return a part never issued",
            parts::return_unused(
                &mut ledger,
                &catalogue,
                &levels,
                &mv("x", "WH-ANODE", 1, ""),
            ),
            Code::PartsMoreThanHeld,
        ),
        (
            "return unknown part",
            parts::return_unused(&mut ledger, &catalogue, &levels, &mv("x", "NOPE", 1, "")),
            Code::PartsUnknownPart,
        ),
        (
            "adjust without reason",
            parts::adjust(
                &mut ledger,
                &catalogue,
                &levels,
                &mv("x", "AC-CAP-35UF", 1, "  "),
            ),
            Code::InputEmpty,
        ),
        (
            "adjust by 0",
            parts::adjust(
                &mut ledger,
                &catalogue,
                &levels,
                &mv("x", "AC-CAP-35UF", 0, "count"),
            ),
            Code::InputBadQuantity,
        ),
        (
            "adjust below zero",
            parts::adjust(
                &mut ledger,
                &catalogue,
                &levels,
                &mv("x", "AC-CAP-35UF", -3, "count"),
            ),
            Code::PartsMoreThanHeld,
        ),
        (
            "faulty serial of no part line",
            parts::return_faulty(&mut ledger, &visits, &faulty("CAP-OLD-2", "o-1")),
            Code::PartsFaultySerialUnmatched,
        ),
        (
            "faulty serial of another order",
            parts::return_faulty(&mut ledger, &visits, &faulty("CAP-OLD-1", "o-2")),
            Code::PartsFaultySerialUnmatched,
        ),
        (
            "faulty serial empty",
            parts::return_faulty(&mut ledger, &visits, &faulty(" ", "o-1")),
            Code::InputEmpty,
        ),
    ];
    for (what, result, code) in cases {
        assert_eq!(result.map_err(|e| e.code()), Err(code), "{what}");
    }
    assert_eq!(ledger, before, "no refused movement wrote anything");
}

#[test]
fn returns_faulty_parts_and_adjustments_that_hold_are_recorded() {
    let (catalogue, mut ledger, visits) = one_capacitor_used();
    let levels = stock_levels(&ledger, &visits);
    parts::return_unused(
        &mut ledger,
        &catalogue,
        &levels,
        &mv("e2", "AC-CAP-35UF", 2, ""),
    )
    .expect("returning all that is held is fine");
    let awaiting = parts::awaiting_faulty_return(&ledger, &visits);
    assert_eq!(
        awaiting
            .iter()
            .map(|u| (
                u.order_id.as_str(),
                u.line_id.as_str(),
                u.faulty_serial.as_str()
            ))
            .collect::<Vec<_>>(),
        vec![("o-1", "l1", "CAP-OLD-1")],
        "the capacitor taken out on o-1 is awaited"
    );
    parts::return_faulty(&mut ledger, &visits, &faulty(" CAP-OLD-1 ", "o-1"))
        .expect("the faulty capacitor of o-1 comes back");
    assert!(
        parts::awaiting_faulty_return(&ledger, &visits).is_empty(),
        "once returned it is no longer awaited"
    );
    let other = StockLedger::new("tech.other");
    assert!(
        parts::awaiting_faulty_return(&other, &visits).is_empty(),
        "another technician's visits are not awaited from this one"
    );
    assert_eq!(
        ledger.faulty_returns[0].part_line_id, "l1",
        "matched to its part line"
    );
    assert_eq!(
        ledger.faulty_returns[0].serial, "CAP-OLD-1",
        "serial stored trimmed"
    );
    assert_eq!(
        parts::return_faulty(
            &mut ledger,
            &visits,
            &FaultyPart {
                id: "f2",
                ..faulty("CAP-OLD-1", "o-1")
            }
        )
        .map_err(|e| e.code()),
        Err(Code::PartsFaultyAlreadyReturned),
        "a faulty part comes back once"
    );
    assert_eq!(
        stock_levels(&ledger, &visits)["AC-CAP-35UF"],
        0,
        "faulty returns never count as stock"
    );
    let levels = stock_levels(&ledger, &visits);
    parts::adjust(
        &mut ledger,
        &catalogue,
        &levels,
        &mv("e3", "AC-CAP-35UF", 4, "stock-take found 4"),
    )
    .expect("a positive correction with a reason");
    assert_eq!(stock_levels(&ledger, &visits)["AC-CAP-35UF"], 4);
}

#[test]
fn random_movements_keep_the_stock_the_model_predicts() {
    let catalogue = seed::parts_catalogue();
    let part_nos: Vec<String> = catalogue.parts.iter().map(|p| p.part_no.clone()).collect();
    let mut rng = Rng(0x001e_d9e5);
    let mut ledger = StockLedger::new("tech.a");
    let mut model: BTreeMap<String, i64> = BTreeMap::new();
    for i in 0..2000 {
        let part = &part_nos[pick(&mut rng, part_nos.len())];
        let qty = pick(&mut rng, 7) as i64 - 2;
        let id = format!("e{i}");
        let levels = stock_levels(&ledger, []);
        let held = model.get(part).copied().unwrap_or(0);
        let m = mv(
            &id,
            part,
            qty,
            if pick(&mut rng, 4) == 0 { "" } else { "count" },
        );
        let (result, allowed) = match pick(&mut rng, 3) {
            0 => (parts::issue(&mut ledger, &catalogue, &m), qty >= 1),
            1 => (
                parts::return_unused(&mut ledger, &catalogue, &levels, &m),
                qty >= 1 && qty <= held,
            ),
            _ => (
                parts::adjust(&mut ledger, &catalogue, &levels, &m),
                qty != 0 && !m.note.is_empty() && held + qty >= 0,
            ),
        };
        assert_eq!(
            result.is_ok(),
            allowed,
            "step {i}: {m:?} with {held} held: {result:?}"
        );
        if allowed {
            let sign = if ledger.entries.last().map(|e| e.kind)
                == Some(onsite_domain::ledger::EntryKind::Returned)
            {
                -1
            } else {
                1
            };
            *model.entry(part.clone()).or_default() += sign * qty;
        }
        let levels = stock_levels(&ledger, []);
        assert!(
            levels.values().all(|&n| n >= 0),
            "step {i}: the dispatcher's movements never take stock below zero"
        );
    }
    model.retain(|_, n| *n != 0);
    let mut levels = stock_levels(&ledger, []);
    levels.retain(|_, n| *n != 0);
    assert_eq!(levels, model, "the ledger's stock is the model's");
}

#[test]
fn low_stock_and_parts_used_per_order_and_household() {
    let levels = BTreeMap::from([
        ("A".to_owned(), 5),
        ("B".to_owned(), 1),
        ("C".to_owned(), -2),
        ("D".to_owned(), 2),
    ]);
    let lines = parts::stock_lines(&levels, 2);
    assert_eq!(
        lines
            .iter()
            .map(|l| (l.part_no.as_str(), l.low, l.negative))
            .collect::<Vec<_>>(),
        [
            ("A", false, false),
            ("B", true, false),
            ("C", true, true),
            ("D", false, false)
        ],
        "low means fewer than the threshold; negative is always low"
    );
    let low: Vec<String> = parts::low_stock(&levels, 2)
        .iter()
        .map(|l| l.part_no.clone())
        .collect();
    assert_eq!(low, ["C", "B"], "lowest first");

    let mut o1 = new_order(1, 0, ServiceType::Repair, DAY);
    o1.order_id = "o-1".into();
    let mut o2 = new_order(2, 0, ServiceType::Repair, DAY);
    o2.order_id = "o-2".into();
    o2.customer.household_id = o1.customer.household_id.clone();
    let mut o3 = new_order(3, 0, ServiceType::Repair, DAY);
    o3.order_id = "o-3".into();
    o3.customer.household_id = "hh-other".into();
    let visits = [
        visit_with_parts("o-2", "tech.b", &[("l3", "P2", 1, "")]),
        visit_with_parts(
            "o-1",
            "tech.a",
            &[("l1", "P1", 2, "S1"), ("l2", "P2", 1, "")],
        ),
        visit_with_parts("o-3", "tech.a", &[("l4", "P1", 9, "")]),
    ];
    let on_o1: Vec<String> = parts::used_on_order("o-1", &visits)
        .iter()
        .map(|u| u.line_id.clone())
        .collect();
    assert_eq!(on_o1, ["l1", "l2"], "order o-1's lines in visit order");
    let orders = [o1.clone(), o2, o3];
    let household = parts::used_in_household(&o1.customer.household_id, &orders, &visits);
    assert_eq!(
        household
            .iter()
            .map(|u| (u.order_id.as_str(), u.line_id.as_str()))
            .collect::<Vec<_>>(),
        [("o-1", "l1"), ("o-1", "l2"), ("o-2", "l3")],
        "both orders of the household, none of the other household"
    );
    assert_eq!(
        parts::totals(&household),
        BTreeMap::from([("P1".to_owned(), 2), ("P2".to_owned(), 2)]),
        "totals per part"
    );
}
