//! Monthly statistics, the GB/T 27922 scorecard and the bonus, checked against a generated two
//! months of data (seeded, deterministic) whose expected figures this file re-counts from the raw
//! generated facts with its own arithmetic — never by calling the functions under test. The
//! centre is in China (UTC+8); the month under test is December 2026.

use std::collections::BTreeMap;

use onsite_domain::bonus::{self, BonusError, BonusFormula, BonusLimit, BonusTerm};
use onsite_domain::edit::{self, VisitEdit};
use onsite_domain::followup::{Complaint, ComplaintResolution};
use onsite_domain::order::{DispatchStatus, Order, Tier};
use onsite_domain::progress::{ProgressEvent, ProgressKind};
use onsite_domain::reference::{FeeSchedule, PartsCatalogue, TemplateLibrary};
use onsite_domain::scorecard::{self, Indicator, NotMeasurable, Reading};
use onsite_domain::sla::SlaPolicy;
use onsite_domain::stats::{self, Figure, Figures, Month, Rate, StatsContext};
use onsite_domain::visit::{FeeLine, PartUse, Rating, StockSource, Visit};
use onsite_domain::{Code, HOUR, MINUTE, Millis, seed, templates};
use onsite_testkit::Reference;

const CN: Millis = 8 * HOUR;
const DAY: Millis = 24 * HOUR;
/// Local midnight of the 1st of November, December 2026 and January 2027 in China, in UTC ms.
const NOV: Millis = 1_793_462_400_000;
const DEC: Millis = 1_796_054_400_000;
const JAN: Millis = 1_798_732_800_000;
const DECEMBER: Month = Month {
    year: 2026,
    month: 12,
};
const TECHS: [&str; 4] = ["tech.a", "tech.b", "tech.c", "tech.d"];
const SIG: &str = "5d41402abc4b2a76b9719d911017c592aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/// SplitMix64: a small deterministic generator.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> i64 {
        (self.next() % n) as i64
    }
}

/// A visit answered and signed through the real edit rules: the body every generated visit is
/// cloned from, so its Haier 12345 checklist is answered as required.
fn signed_body(library: &TemplateLibrary) -> Visit {
    let now = DEC - 40 * DAY;
    let profile = seed::technician("tech.a", "甲", "13900000001", "HC-1", now - DAY);
    let r = Reference::demo(profile.clone()).with_fees(seed::fee_schedule(now - DAY));
    let mut order = Order::create(seed::order(0, now), &SlaPolicy::default(), now).unwrap();
    order.assign("t1", &profile, "", "disp", now).unwrap();
    let mut v = Visit::start(&order, "tech.a", library).unwrap();
    let mut edits = seed::job_edits(order.service_type, "job");
    edits.push(VisitEdit::Sign {
        event_id: "sign".into(),
        signer_name: "张伟".into(),
        image_sha256: SIG.into(),
    });
    for (i, e) in edits.into_iter().enumerate() {
        edit::apply(
            &mut v,
            e.clone(),
            &r.context(&order, now + i as i64 * MINUTE),
        )
        .unwrap_or_else(|err| panic!("{e:?} applies: {err}"));
    }
    v
}

/// The raw facts of one generated visit, as the expectations re-count them.
#[derive(Debug, Clone)]
struct Fact {
    order: usize,
    tech: &'static str,
    signed_at: Option<Millis>,
    accepted: Millis,
    arrived: Millis,
    done: Millis,
    stars: Option<u32>,
    /// (part_no, qty)
    parts: Vec<(String, i64)>,
    /// (code, qty, unit price)
    fees: Vec<(String, i64, i64)>,
    haier_ok: bool,
}

struct OrderFact {
    created: Millis,
    tier: Tier,
    household: String,
    appliance: String,
    cancelled: bool,
}

/// A complaint received on a follow-up call about one signed visit.
#[derive(Debug, Clone)]
struct ComplaintFact {
    order: usize,
    tech: &'static str,
    received: Millis,
    resolve_by: Millis,
    resolved: Option<Millis>,
}

struct World {
    complaints: Vec<ComplaintFact>,
    orders: Vec<Order>,
    visits: Vec<Visit>,
    order_facts: Vec<OrderFact>,
    facts: Vec<Fact>,
    library: TemplateLibrary,
    parts: PartsCatalogue,
    fees: FeeSchedule,
    policy: SlaPolicy,
}

impl World {
    fn ctx(&self) -> StatsContext<'_> {
        StatsContext {
            orders: &self.orders,
            visits: &self.visits,
            policy: &self.policy,
            parts: &self.parts,
            fees: &self.fees,
            utc_offset_ms: CN,
        }
    }
}

fn event(id: String, kind: ProgressKind, at: Millis) -> ProgressEvent {
    ProgressEvent {
        id,
        kind,
        at_ms: at,
        device_id: "dev".into(),
    }
}

fn make_order(i: usize, of: &OrderFact, policy: &SlaPolicy) -> Order {
    let mut o = Order::create(seed::order(i as u32, of.created), policy, of.created).unwrap();
    o.order_id = format!("o{i}");
    o.customer.household_id = of.household.clone();
    o.customer.tier = of.tier;
    o.sla = policy.targets(of.tier, of.created);
    o.appliance_id = of.appliance.clone();
    if of.cancelled {
        o.status = DispatchStatus::Cancelled;
    }
    o
}

fn make_visit(body: &Visit, f: &Fact, i: usize, signed_body: bool) -> Visit {
    let mut v = body.clone();
    v.order_id = format!("o{}", f.order);
    v.technician_id = f.tech.to_owned();
    let mut events = vec![
        event(format!("v{i}-acc"), ProgressKind::Accepted, f.accepted),
        event(format!("v{i}-arr"), ProgressKind::Arrived, f.arrived),
        event(
            format!("v{i}-ws"),
            ProgressKind::WorkStarted,
            f.arrived + MINUTE,
        ),
        event(format!("v{i}-wd"), ProgressKind::WorkDone, f.done),
    ];
    match f.signed_at {
        Some(at) => {
            events.push(event(format!("v{i}-sig"), ProgressKind::Signed, at));
            v.signature
                .as_mut()
                .expect("the body is signed")
                .signed_at_ms = at;
        }
        None => v.signature = None,
    }
    if !signed_body {
        v.signature = None;
    }
    v.events = events;
    v.rating = f.stars.map(|stars| Rating {
        stars,
        comment: String::new(),
    });
    v.parts = f
        .parts
        .iter()
        .enumerate()
        .map(|(k, (part_no, qty))| PartUse {
            id: format!("v{i}-p{k}"),
            part_no: part_no.clone(),
            name_zh_cn: String::new(),
            name_en: String::new(),
            qty: *qty,
            // Deliberately not the catalogue price: the cost is at catalogue price.
            unit_price_cents: 1,
            faulty_serial: String::new(),
            replacement_serial: String::new(),
            source: StockSource::Warehouse,
        })
        .collect();
    v.fees = f
        .fees
        .iter()
        .enumerate()
        .map(|(k, (code, qty, price))| FeeLine {
            id: format!("v{i}-f{k}"),
            code: code.clone(),
            label_zh_cn: String::new(),
            label_en: String::new(),
            qty: *qty,
            unit_price_cents: *price,
        })
        .collect();
    if !f.haier_ok {
        let haier = v.checklists.get_mut(templates::HAIER_12345).unwrap();
        let required = templates::haier_12345()
            .items
            .into_iter()
            .find(|it| it.required && haier.answers.contains_key(&it.id))
            .expect("the body answers a required Haier item");
        haier.answers.remove(&required.id);
    }
    v
}

/// Respond, arrive, complete durations per tier: the published SLA, written out here.
fn durations(tier: Tier) -> [Millis; 3] {
    match tier {
        Tier::Standard => [2 * HOUR, 24 * HOUR, 48 * HOUR],
        Tier::Gold => [HOUR, 8 * HOUR, 24 * HOUR],
        Tier::Platinum => [30 * MINUTE, 4 * HOUR, 12 * HOUR],
    }
}

fn part_nos(parts: &PartsCatalogue) -> Vec<String> {
    parts.parts.iter().map(|p| p.part_no.clone()).collect()
}

/// November and December 2026: 120 orders on 4 households × 3 appliances (so repeats within and
/// beyond 30 days), 4 technicians, some cancelled, some never visited, some unsigned, some with a
/// second technician's earlier response, and four placed by hand on the month boundary.
fn generate(seed_value: u64) -> World {
    let mut g = Gen(seed_value);
    let library = templates::builtin_library();
    let body = signed_body(&library);
    let parts = seed::parts_catalogue();
    let fees = seed::fee_schedule(NOV - 60 * DAY);
    let policy = SlaPolicy::default();
    let nos = part_nos(&parts);
    let (mut order_facts, mut facts) = (Vec::new(), Vec::new());
    for i in 0..120usize {
        let created = NOV - 5 * DAY + g.below((65 * DAY) as u64);
        let tier = [Tier::Standard, Tier::Gold, Tier::Platinum][g.below(3) as usize];
        order_facts.push(OrderFact {
            created,
            tier,
            household: format!("hh-{}", g.below(4)),
            appliance: format!("ap-{}", g.below(3)),
            cancelled: g.below(12) == 0,
        });
        let roll = g.below(10);
        if order_facts[i].cancelled || roll == 0 {
            continue;
        }
        let accepted = created + g.below((3 * HOUR) as u64);
        let arrived = accepted + g.below((10 * HOUR) as u64);
        let done = arrived + MINUTE + 20 * MINUTE + g.below((3 * HOUR) as u64);
        let signed = roll >= 2;
        let fact = Fact {
            order: i,
            tech: TECHS[g.below(4) as usize],
            signed_at: signed.then_some(done + 5 * MINUTE),
            accepted,
            arrived,
            done,
            stars: signed.then(|| [2, 3, 4, 4, 5, 5, 5][g.below(7) as usize]),
            parts: (0..g.below(3))
                .map(|_| match g.below(6) {
                    0 => ("UNKNOWN-PART".to_owned(), 1),
                    _ => (
                        nos[g.below(nos.len() as u64) as usize].clone(),
                        1 + g.below(3),
                    ),
                })
                .collect(),
            fees: (0..g.below(3))
                .map(|_| {
                    let item = &fees.items[g.below(fees.items.len() as u64) as usize];
                    let off = g.below(5) == 0;
                    let price = item.unit_price_cents + if off { 500 } else { 0 };
                    (item.code.clone(), 1 + g.below(2), price)
                })
                .collect(),
            haier_ok: g.below(6) != 0,
        };
        facts.push(fact);
        if g.below(8) == 0 {
            // Another technician started earlier and handed the order over, unsigned.
            let mut early = facts.last().unwrap().clone();
            let main = TECHS.iter().position(|t| *t == early.tech).unwrap();
            early.tech = TECHS[(main + 1 + g.below(3) as usize) % TECHS.len()];
            early.signed_at = None;
            early.stars = None;
            early.accepted = created + g.below((20 * MINUTE) as u64);
            early.arrived = early.accepted + HOUR;
            early.done = early.arrived + 2 * HOUR;
            early.parts.clear();
            early.fees.clear();
            facts.push(early);
        }
    }
    boundary_cases(&mut order_facts, &mut facts);
    let complaints = complaint_facts(seed_value, &facts);
    let mut orders: Vec<Order> = order_facts
        .iter()
        .enumerate()
        .map(|(i, of)| make_order(i, of, &policy))
        .collect();
    for (n, c) in complaints.iter().enumerate() {
        orders[c.order].complaints.push(Complaint {
            id: format!("complaint-{n}"),
            technician_id: c.tech.to_owned(),
            words: "师傅迟到了 / the technician was late".into(),
            received_by: "disp".into(),
            received_at_ms: c.received,
            resolve_by_ms: c.resolve_by,
            resolution: c.resolved.map(|at| ComplaintResolution {
                note: "已致歉 / apologised".into(),
                by: "disp".into(),
                at_ms: at,
            }),
        });
    }
    let visits = facts
        .iter()
        .enumerate()
        .map(|(i, f)| make_visit(&body, f, i, f.signed_at.is_some()))
        .collect();
    World {
        complaints,
        orders,
        visits,
        order_facts,
        facts,
        library,
        parts,
        fees,
        policy,
    }
}

/// Complaints on about one signed visit in five, received up to three days after the signature
/// (so some cross into the next month), open, resolved within or after 48 hours; plus the
/// boundaries: received exactly at local midnight of 1 December and 1 ms before, resolved exactly
/// at the deadline and 1 ms after it.
fn complaint_facts(seed_value: u64, facts: &[Fact]) -> Vec<ComplaintFact> {
    let mut g = Gen(seed_value ^ 0x5eed_c0de);
    let mut out = Vec::new();
    let signed: Vec<(&Fact, Millis)> = facts
        .iter()
        .filter_map(|f| f.signed_at.map(|s| (f, s)))
        .collect();
    for (f, s) in &signed {
        if g.below(5) != 0 {
            continue;
        }
        let received = s + g.below((3 * DAY) as u64);
        let resolve_by = received + 48 * HOUR;
        let resolved = match g.below(3) {
            0 => None,
            _ => Some(received + g.below((96 * HOUR) as u64)),
        };
        out.push(ComplaintFact {
            order: f.order,
            tech: f.tech,
            received,
            resolve_by,
            resolved,
        });
    }
    let (f, _) = signed[0];
    for (received, resolved_after) in [(DEC, 48 * HOUR), (DEC - 1, 0), (DEC + DAY, 48 * HOUR + 1)] {
        out.push(ComplaintFact {
            order: f.order,
            tech: f.tech,
            received,
            resolve_by: received + 48 * HOUR,
            resolved: Some(received + resolved_after),
        });
    }
    out
}

/// Complaints received in `from..to` (of `tech`): received, resolved, resolved by the deadline.
fn expect_complaints(w: &World, from: Millis, to: Millis, tech: Option<&str>) -> (u32, u32, u32) {
    let mut e = (0, 0, 0);
    for c in &w.complaints {
        if c.received < from || c.received >= to || tech.is_some_and(|t| t != c.tech) {
            continue;
        }
        e.0 += 1;
        e.1 += u32::from(c.resolved.is_some());
        e.2 += u32::from(c.resolved.is_some_and(|at| at <= c.resolve_by));
    }
    e
}

/// Signed on tech.a at local midnight of 1 December and one millisecond before; a repeat exactly
/// 30 days after the first and one 30 days and 1 ms after the second.
fn boundary_cases(order_facts: &mut Vec<OrderFact>, facts: &mut Vec<Fact>) {
    let place = |order_facts: &mut Vec<OrderFact>, appliance: &str, created: Millis| {
        order_facts.push(OrderFact {
            created,
            tier: Tier::Gold,
            household: "hh-edge".into(),
            appliance: appliance.into(),
            cancelled: false,
        });
        order_facts.len() - 1
    };
    for (appliance, signed_at, repeat_after) in [
        ("ap-edge-1", DEC, 30 * DAY),
        ("ap-edge-2", DEC - 1, 30 * DAY + 1),
    ] {
        let order = place(order_facts, appliance, signed_at - 3 * HOUR);
        facts.push(Fact {
            order,
            tech: "tech.a",
            signed_at: Some(signed_at),
            accepted: signed_at - 3 * HOUR + 10 * MINUTE,
            arrived: signed_at - 2 * HOUR,
            done: signed_at - 10 * MINUTE,
            stars: Some(5),
            parts: Vec::new(),
            fees: Vec::new(),
            haier_ok: true,
        });
        place(order_facts, appliance, signed_at + repeat_after);
    }
}

/// What the figures must be, re-counted from the facts.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    completed: u32,
    repeats: u32,
    stars_sum: i64,
    rated: u32,
    five: u32,
    /// Per tier index: (cases, response met, arrival met, all met).
    tiers: [(u32, u32, u32, u32); 3],
    on_site_minutes: i64,
    response_minutes: i64,
    parts_used: i64,
    parts_cost: i64,
    unpriced: u32,
    fees: i64,
    off_schedule: u32,
    haier_ok: u32,
}

fn tier_index(t: Tier) -> usize {
    match t {
        Tier::Standard => 0,
        Tier::Gold => 1,
        Tier::Platinum => 2,
    }
}

fn expect(w: &World, from: Millis, to: Millis, tech: Option<&str>) -> Expected {
    let price: BTreeMap<&str, i64> = w
        .parts
        .parts
        .iter()
        .map(|p| (p.part_no.as_str(), p.unit_price_cents))
        .collect();
    let listed: BTreeMap<&str, i64> = w
        .fees
        .items
        .iter()
        .map(|i| (i.code.as_str(), i.unit_price_cents))
        .collect();
    let mut e = Expected::default();
    for f in &w.facts {
        let Some(signed) = f.signed_at else { continue };
        if signed < from || signed >= to || tech.is_some_and(|t| t != f.tech) {
            continue;
        }
        let of = &w.order_facts[f.order];
        e.completed += 1;
        let repeat = w.order_facts.iter().enumerate().any(|(j, o)| {
            j != f.order
                && !o.cancelled
                && o.household == of.household
                && o.appliance == of.appliance
                && o.created > signed
                && o.created <= signed + 30 * DAY
        });
        e.repeats += u32::from(repeat);
        if let Some(s) = f.stars {
            e.stars_sum += i64::from(s);
            e.rated += 1;
            e.five += u32::from(s == 5);
        }
        let same_order = w.facts.iter().filter(|x| x.order == f.order);
        let responded = same_order.clone().map(|x| x.accepted).min().unwrap();
        let arrived = same_order.clone().map(|x| x.arrived).min().unwrap();
        let [r, a, c] = durations(of.tier);
        let (rm, am) = (responded <= of.created + r, arrived <= of.created + a);
        let cm = signed <= of.created + c;
        let t = &mut e.tiers[tier_index(of.tier)];
        *t = (
            t.0 + 1,
            t.1 + u32::from(rm),
            t.2 + u32::from(am),
            t.3 + u32::from(rm && am && cm),
        );
        e.on_site_minutes += (f.done - f.arrived) / MINUTE;
        e.response_minutes += (responded - of.created) / MINUTE;
        for (no, qty) in &f.parts {
            e.parts_used += qty;
            match price.get(no.as_str()) {
                Some(p) => e.parts_cost += qty * p,
                None => e.unpriced += 1,
            }
        }
        for (code, qty, p) in &f.fees {
            e.fees += qty * p;
            e.off_schedule += u32::from(listed.get(code.as_str()) != Some(p));
        }
        e.haier_ok += u32::from(f.haier_ok);
    }
    e
}

fn rate(n: u32, d: u32) -> Rate {
    Rate {
        numerator: n,
        denominator: d,
    }
}

fn check(f: &Figures, e: &Expected, who: &str) {
    assert_eq!(
        f.completed, e.completed,
        "{who}: completions are signed visits"
    );
    assert_eq!(
        f.repeat_repair,
        rate(e.repeats, e.completed),
        "{who}: repeat repairs"
    );
    assert_eq!(
        f.first_time_fix,
        rate(e.completed - e.repeats, e.completed),
        "{who}: first-time fixes"
    );
    assert_eq!(
        (f.stars.sum, f.stars.count),
        (e.stars_sum, e.rated),
        "{who}: stars"
    );
    assert_eq!(f.five_star, rate(e.five, e.rated), "{who}: five-star share");
    for (i, t) in f.sla.iter().enumerate() {
        let (n, r, a, all) = e.tiers[i];
        assert_eq!(
            t.response_met,
            rate(r, n),
            "{who}: {:?} response met",
            t.tier
        );
        assert_eq!(t.arrival_met, rate(a, n), "{who}: {:?} arrival met", t.tier);
        assert_eq!(
            t.all_met,
            rate(all, n),
            "{who}: {:?} all targets met",
            t.tier
        );
    }
    let sum = |k: fn(&(u32, u32, u32, u32)) -> u32| e.tiers.iter().map(k).sum::<u32>();
    assert_eq!(
        f.response_met,
        rate(sum(|t| t.1), sum(|t| t.0)),
        "{who}: response met over all tiers"
    );
    assert_eq!(
        (f.minutes_on_site.sum, f.minutes_on_site.count),
        (e.on_site_minutes, e.completed),
        "{who}: time on site, arrival to work done"
    );
    assert_eq!(
        (f.response_minutes.sum, f.response_minutes.count),
        (e.response_minutes, e.completed),
        "{who}: creation to the earliest response of any visit"
    );
    assert_eq!(f.parts_used, e.parts_used, "{who}: parts used");
    assert_eq!(
        f.parts_cost_cents, e.parts_cost,
        "{who}: parts at catalogue price"
    );
    assert_eq!(
        f.parts_unpriced_lines, e.unpriced,
        "{who}: parts not in the catalogue"
    );
    assert_eq!(f.fees_collected_cents, e.fees, "{who}: fees collected");
    assert_eq!(
        f.fees_off_schedule_lines, e.off_schedule,
        "{who}: fees off the schedule"
    );
}

#[test]
fn a_generated_month_matches_an_independent_recount() {
    for seed_value in [1, 7, 2026] {
        let w = generate(seed_value);
        let month = stats::month_stats(&w.ctx(), DECEMBER);
        let centre = expect(&w, DEC, JAN, None);
        assert!(
            centre.completed > 20 && centre.repeats > 0 && centre.completed > centre.repeats,
            "the generated month has completions with and without repeats: {centre:?}"
        );
        check(&month.centre, &centre, "centre");
        let ids: Vec<&str> = month
            .technicians
            .iter()
            .map(|t| t.technician_id.as_str())
            .collect();
        assert_eq!(
            ids, TECHS,
            "every technician who completed something, by id"
        );
        for t in &month.technicians {
            check(
                &t.figures,
                &expect(&w, DEC, JAN, Some(&t.technician_id)),
                &t.technician_id,
            );
        }
        let per_tech: u32 = month.technicians.iter().map(|t| t.figures.completed).sum();
        assert_eq!(
            per_tech, month.centre.completed,
            "the centre is the sum of its technicians"
        );
    }
}

#[test]
fn month_on_month_compares_with_the_previous_local_month() {
    let w = generate(7);
    let mom = stats::month_on_month(&w.ctx(), DECEMBER, Some("tech.a"));
    check(
        &mom.current,
        &expect(&w, DEC, JAN, Some("tech.a")),
        "tech.a December",
    );
    check(
        &mom.previous,
        &expect(&w, NOV, DEC, Some("tech.a")),
        "tech.a November",
    );
    let completed = mom
        .changes
        .iter()
        .find(|c| c.figure == Figure::Completed)
        .expect("completed is compared");
    let (cur, prev) = (mom.current.completed, mom.previous.completed);
    assert_eq!(
        completed.change,
        Some(f64::from(cur) - f64::from(prev)),
        "the change is this month minus the previous"
    );
    assert_eq!(
        mom.changes.len(),
        Figure::ALL.len(),
        "every figure is compared"
    );
}

#[test]
fn the_boundary_cases_land_where_the_rules_say() {
    let w = generate(1);
    let edge: Vec<&Order> = w
        .orders
        .iter()
        .filter(|o| o.customer.household_id == "hh-edge")
        .collect();
    let all = stats::completions(&w.orders, &w.visits);
    let of = |o: &Order| {
        all.iter()
            .find(|c| c.order.order_id == o.order_id)
            .copied()
            .unwrap()
    };
    let (midnight, before) = (of(edge[0]), of(edge[2]));
    assert_eq!(
        Month::of(midnight.signed_at_ms, CN),
        DECEMBER,
        "signed at local midnight on the 1st"
    );
    assert_eq!(
        Month::of(before.signed_at_ms, CN),
        DECEMBER.previous(),
        "signed 1 ms before local midnight"
    );
    assert!(
        stats::has_repeat(&midnight, &w.orders),
        "a repeat exactly 30 days later counts"
    );
    assert!(
        !stats::has_repeat(&before, &w.orders),
        "30 days and 1 ms later is beyond the window"
    );
}

#[test]
fn the_scorecard_reads_the_measurable_indicators_and_lists_the_rest() {
    let w = generate(2026);
    let card = scorecard::scorecard(&w.ctx(), &w.library, DECEMBER, None);
    let e = expect(&w, DEC, JAN, None);
    let reading = |i: Indicator| {
        card.lines
            .iter()
            .find(|l| l.indicator == i)
            .unwrap_or_else(|| panic!("{i:?} is on the scorecard"))
            .reading
    };
    let all_met: u32 = e.tiers.iter().map(|t| t.3).sum();
    let responded: u32 = e.tiers.iter().map(|t| t.1).sum();
    let n = e.completed;
    assert_eq!(
        reading(Indicator::ServiceCommitmentKept),
        Reading::Rate {
            rate: rate(all_met, n),
            evidence: n
        },
        "commitment kept: all three SLA targets met"
    );
    assert_eq!(
        reading(Indicator::ResponseTime),
        Reading::Rate {
            rate: rate(responded, n),
            evidence: n
        },
        "response in time"
    );
    assert_eq!(
        reading(Indicator::OnSiteStandard),
        Reading::Rate {
            rate: rate(e.haier_ok, n),
            evidence: n
        },
        "Haier 12345 answered as required"
    );
    assert!(
        e.haier_ok < n,
        "the generated month has visits that skipped a Haier item"
    );
    assert_eq!(
        reading(Indicator::RepeatRepairs),
        Reading::Rate {
            rate: rate(e.repeats, n),
            evidence: n
        },
        "repeat repairs"
    );
    match reading(Indicator::CustomerSatisfaction) {
        Reading::Stars { stars, evidence } => {
            assert_eq!(
                (stars.sum, evidence),
                (e.stars_sum, e.rated),
                "satisfaction"
            );
        }
        other => panic!("satisfaction is measured in stars, got {other:?}"),
    }
    let (received, resolved, in_time) = expect_complaints(&w, DEC, JAN, None);
    assert!(
        received > in_time && in_time > 0 && resolved > in_time,
        "the generated month has complaints resolved in time, late and not at all"
    );
    assert_eq!(
        reading(Indicator::ComplaintHandling),
        Reading::Complaints {
            received,
            resolved: rate(resolved, received),
            resolved_in_time: rate(in_time, received),
        },
        "complaint handling: the complaints received in December, resolved, resolved in time"
    );
    for tech in TECHS {
        let card = scorecard::scorecard(&w.ctx(), &w.library, DECEMBER, Some(tech));
        let (received, resolved, in_time) = expect_complaints(&w, DEC, JAN, Some(tech));
        let line = card
            .lines
            .iter()
            .find(|l| l.indicator == Indicator::ComplaintHandling)
            .expect("complaint handling is on every scorecard");
        assert_eq!(
            line.reading,
            Reading::Complaints {
                received,
                resolved: rate(resolved, received),
                resolved_in_time: rate(in_time, received),
            },
            "{tech}'s complaints are those about their own visits"
        );
    }
    for i in [
        Indicator::Organisation,
        Indicator::Resources,
        Indicator::WarrantyHandling,
    ] {
        assert_eq!(
            reading(i),
            Reading::NotMeasurable {
                why: NotMeasurable::OutsideServiceRecords
            },
            "{i:?} is outside what service records show"
        );
    }
}

fn figures(w: &World, tech: &str) -> Figures {
    stats::figures_for(&w.ctx(), DECEMBER, Some(tech))
}

#[test]
fn the_seed_bonus_is_the_documented_table() {
    let w = generate(1);
    let formula = seed::bonus_formula(NOV);
    for tech in TECHS {
        let f = figures(&w, tech);
        let e = expect(&w, DEC, JAN, Some(tech));
        let b = bonus::compute(&formula, &f).expect("the seed formula is valid");
        let share = |n: u32, d: u32| f64::from(n) / f64::from(d);
        let (n, responded) = (e.completed, e.tiers.iter().map(|t| t.1).sum::<u32>());
        let mut want = 3_000 * i64::from(n);
        if n >= 5 {
            want += (50_000.0 * share(n - e.repeats, n)).round() as i64;
            want += (30_000.0 * share(e.five, e.rated)).round() as i64;
            if share(responded, n) >= 0.9 {
                want += (20_000.0 * share(responded, n)).round() as i64;
            }
            if share(e.repeats, n) > 0.05 {
                want -= (100_000.0 * share(e.repeats, n)).round() as i64;
            }
        }
        assert_eq!(b.before_limits_cents, want, "{tech}: base + weighted terms");
        assert_eq!(
            b.total_cents,
            want.clamp(0, 500_000),
            "{tech}: floor 0, cap 5,000 yuan"
        );
        assert_eq!(b.formula_version, 1, "the bonus names the formula version");
    }
}

#[test]
fn the_bonus_is_floored_and_capped_and_pays_nothing_on_no_data() {
    let w = generate(1);
    let f = figures(&w, "tech.a");
    let mut formula = seed::bonus_formula(NOV);
    formula.per_completion_cents = 100_000;
    assert!(f.completed > 0, "tech.a completed something in December");
    formula.cap_cents = 100;
    let b = bonus::compute(&formula, &f).unwrap();
    assert_eq!(
        (b.total_cents, b.limited),
        (100, Some(BonusLimit::Cap)),
        "capped"
    );
    formula.cap_cents = 10_000_000;
    formula.floor_cents = 9_000_000;
    let b = bonus::compute(&formula, &f).unwrap();
    assert_eq!(
        (b.total_cents, b.limited),
        (9_000_000, Some(BonusLimit::Floor)),
        "floored"
    );
    let nothing = stats::figures_for(
        &w.ctx(),
        Month {
            year: 2020,
            month: 1,
        },
        Some("tech.a"),
    );
    formula.min_completions = 0;
    formula.floor_cents = 0;
    let b = bonus::compute(&formula, &nothing).unwrap();
    assert_eq!(b.total_cents, 0, "no completions, no bonus");
    assert!(
        b.lines
            .iter()
            .all(|l| l.value.is_none() && !l.counted && l.amount_cents == 0),
        "every rate is no data and pays nothing: {:?}",
        b.lines
    );
}

#[test]
fn a_bad_bonus_formula_is_refused_with_a_typed_code() {
    let w = generate(1);
    let f = figures(&w, "tech.a");
    let base = seed::bonus_formula(NOV);
    let term = |figure: &str, weight_cents: i64, threshold: Option<f64>| BonusTerm {
        figure: figure.into(),
        weight_cents,
        threshold,
    };
    let with = |change: &dyn Fn(&mut BonusFormula)| {
        let mut bad = base.clone();
        change(&mut bad);
        bad
    };
    let cases: Vec<(BonusFormula, Code)> = vec![
        (
            with(&|b| b.terms.push(term("happiness", 1, None))),
            Code::BonusUnknownFigure,
        ),
        (
            with(&|b| b.terms.push(term("fees_collected_cents", 1, None))),
            Code::BonusFigureNotAllowed,
        ),
        (
            with(&|b| b.terms.push(term("five_star_share", 1, None))),
            Code::BonusDuplicateFigure,
        ),
        (
            with(&|b| b.terms.push(term("arrival_met_rate", -1, None))),
            Code::BonusWeightSign,
        ),
        (
            with(&|b| b.terms[3].weight_cents = 1_000),
            Code::BonusWeightSign,
        ),
        (
            with(&|b| b.per_completion_cents = -1),
            Code::BonusNegativeAmount,
        ),
        (with(&|b| b.floor_cents = -1), Code::BonusNegativeAmount),
        (
            with(&|b| b.cap_cents = b.floor_cents - 1),
            Code::BonusCapBelowFloor,
        ),
        (
            with(&|b| b.terms.push(term("average_stars", 1, Some(6.0)))),
            Code::BonusBadThreshold,
        ),
        (
            with(&|b| b.terms[0].threshold = Some(f64::NAN)),
            Code::BonusBadThreshold,
        ),
        (
            with(&|b| b.terms[0].threshold = Some(1.5)),
            Code::BonusBadThreshold,
        ),
        (with(&|b| b.version = 0), Code::BonusBadVersion),
    ];
    for (bad, code) in cases {
        let err: BonusError = bonus::compute(&bad, &f).expect_err("a bad formula pays nothing");
        assert_eq!(err.code(), code, "{err}");
        assert!(!err.to_string().is_empty(), "the error says what is wrong");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, .. Default::default() })]

    /// Every instant falls in exactly the local month whose start is at or before it and whose
    /// successor's start is after it, at any whole-quarter-hour offset.
    #[test]
    fn an_instant_is_in_the_month_that_starts_before_it(
        at in 0i64..4_102_444_800_000,
        quarters in -48i64..=56,
    ) {
        let offset = quarters * 15 * MINUTE;
        let m = Month::of(at, offset);
        proptest::prop_assert!(m.start_ms(offset) <= at, "{m:?} starts after {at}");
        proptest::prop_assert!(at < m.next().start_ms(offset), "{at} is past {m:?}");
        let days = (m.next().start_ms(offset) - m.start_ms(offset)) / DAY;
        proptest::prop_assert!((28..=31).contains(&days), "{m:?} has {days} days");
    }
}
