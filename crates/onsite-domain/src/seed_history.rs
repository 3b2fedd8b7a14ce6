//! Demo history for the statistics (issue 11): a few months of completed and signed jobs of the
//! demo technicians at more households, so the monthly trend, the per-technician comparison, SLA
//! compliance and the satisfaction distribution have data. Deterministic (a fixed mix of the job's
//! index, no randomness) and built through the domain's own constructors — `Order::create`,
//! `Order::assign`, `Visit::start`, `edit::apply` — so every figure is one the rules computed,
//! never a hand-written number. What varies from job to job: household, appliance and service
//! type, response and arrival times against the tier's SLA, time on site, parts (ordered from the
//! warehouse, so no technician's personal stock moves), the rating, and now
//! and then a call-back to the same appliance within days (a repeat repair). The follow-up calls
//! (回访) of all but the last week's jobs were made ([`answer_calls`]).

use crate::edit::{self, EditContext, VisitEdit};
use crate::followup::{self, Answer, CallOutcome};
use crate::household::Household;
use crate::numbering::{Date, OrderNo};
use crate::order::{Appliance, Customer, NewOrder, Order, Tier, Window};
use crate::progress::ProgressKind;
use crate::reference::{FeeSchedule, PartsCatalogue, ServiceType, TechnicianProfile};
use crate::service::ServiceSettings;
use crate::sla::SlaPolicy;
use crate::templates::SCHEMA;
use crate::visit::{StockSource, Visit};
use crate::{DomainError, HOUR, MINUTE, Millis, seed};

const DAY: Millis = 24 * HOUR;

/// How many past jobs the demo has, spread over [`HISTORY_DAYS`] before the demo day.
pub const HISTORY_JOBS: u32 = 48;
/// How far back the history reaches, in days.
pub const HISTORY_DAYS: i64 = 120;
/// The centre's UTC offset the history's order numbers are dated in (China, UTC+8).
const CENTRE_OFFSET_MINUTES: i32 = 8 * 60;
/// The order-number prefix of the history's orders.
const PREFIX: &str = "DEMO";
/// Who dispatched the history's orders and made their follow-up calls (the demo dispatcher).
const DISPATCHER: &str = "disp";
/// The follow-up calls of jobs signed in this many days before the demo day are still to make.
pub const CALLS_OPEN_DAYS: i64 = 7;
/// One in this many calls made went unanswered: that follow-up stays open, to be tried again.
pub const NO_ANSWER_EVERY: usize = 6;

/// The history households: name, phone, address, tier. Ids `hh-5` … (after [`seed::HOUSEHOLDS`]).
const CUSTOMERS: [(&str, &str, &str, Tier); 8] = [
    (
        "陈静",
        "13800000005",
        "上海市长宁区天山路 600 弄 5 号 702",
        Tier::Standard,
    ),
    (
        "杨洋",
        "13800000006",
        "上海市杨浦区国权路 39 号 2 单元 401",
        Tier::Gold,
    ),
    (
        "赵磊",
        "13800000007",
        "上海市普陀区曹杨路 1040 弄 3 号 1102",
        Tier::Standard,
    ),
    (
        "黄敏",
        "13800000008",
        "上海市虹口区四川北路 1688 号 906",
        Tier::Platinum,
    ),
    (
        "周杰",
        "13800000009",
        "上海市宝山区牡丹江路 1325 号 15 栋 203",
        Tier::Standard,
    ),
    (
        "吴霞",
        "13800000010",
        "上海市嘉定区城中路 138 号 7 号楼 601",
        Tier::Gold,
    ),
    (
        "徐明",
        "13800000011",
        "上海市松江区人民北路 2299 号 11 栋 502",
        Tier::Standard,
    ),
    (
        "孙丽",
        "13800000012",
        "上海市黄浦区西藏南路 1200 弄 9 号 1801",
        Tier::Gold,
    ),
];

/// Appliance kinds of every history household: category, brand, model, serial prefix.
const APPLIANCES: [(&str, &str, &str, &str); 3] = [
    ("air-conditioner", "Haier", "KFR-35GW/05", "SA"),
    ("washer", "Haier", "EG100MATE7", "SW"),
    ("water-heater", "Haier", "EC6002-MC5", "SH"),
];

/// A stable mix of `n` (SplitMix64's finaliser): the same job varies the same way on every run.
fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Pick from `table` with the bits of `r` starting at `shift`.
fn pick<T: Copy>(table: &[T], r: u64, shift: u32) -> T {
    table[((r >> shift) % table.len() as u64) as usize]
}

/// History household `h` (0-based, id `hh-<HOUSEHOLDS + h + 1>`).
pub fn household(h: usize, day_start: Millis) -> Household {
    let (name, phone, address, tier) = CUSTOMERS[h % CUSTOMERS.len()];
    Household {
        schema: SCHEMA,
        household_id: household_id(h),
        name: name.to_owned(),
        phones: vec![phone.to_owned()],
        address: address.to_owned(),
        tier,
        notes: String::new(),
        preferences: Vec::new(),
        appliances: appliances(h, day_start),
        created_at_ms: day_start - seed::YEAR,
        updated_at_ms: day_start - seed::YEAR,
        reminders: Vec::new(),
    }
}

/// How many history households there are.
pub const HOUSEHOLDS: usize = CUSTOMERS.len();

fn household_id(h: usize) -> String {
    format!("hh-{}", seed::HOUSEHOLDS + h % CUSTOMERS.len() + 1)
}

fn appliances(h: usize, day_start: Millis) -> Vec<Appliance> {
    APPLIANCES
        .iter()
        .enumerate()
        .map(|(k, (category, brand, model, serial))| Appliance {
            id: format!("ap-{}-{}", household_id(h), category),
            category: (*category).to_owned(),
            brand: (*brand).to_owned(),
            model: (*model).to_owned(),
            serial: format!("{serial}{:010}", 6_300_000_000u64 + (h * 10 + k) as u64),
            purchase_date_ms: Some(day_start - (2 + (h + k) as i64 % 3) * seed::YEAR),
            warranty_until_ms: Some(day_start + ((h + k) as i64 % 2 * 2 - 1) * seed::YEAR),
        })
        .collect()
}

/// What job `i` is: household, appliance, service type, whether it is a call-back.
struct Plan {
    household: usize,
    appliance: usize,
    service_type: ServiceType,
    callback: bool,
}

/// Job `i`: households in turn, a different appliance every round; every ninth job (from the
/// fifth) is a call-back on the appliance of the same technician's previous job, five days later.
fn plan(i: u32) -> Plan {
    let callback = i >= 2 && i % 9 == 4;
    let base = if callback { i - 2 } else { i };
    let household = base as usize % HOUSEHOLDS;
    let appliance = (base as usize / HOUSEHOLDS) % APPLIANCES.len();
    let service_type = if callback {
        ServiceType::Repair
    } else {
        pick(
            &[
                ServiceType::Repair,
                ServiceType::Repair,
                ServiceType::Maintenance,
                ServiceType::Repair,
                ServiceType::Installation,
            ],
            mix(u64::from(i)),
            0,
        )
    };
    Plan {
        household,
        appliance,
        service_type,
        callback,
    }
}

/// The new order of job `i`, created at `created`, its window starting `arrive_after` later.
fn new_order(
    i: u32,
    p: &Plan,
    created: Millis,
    arrive_after: Millis,
    day_start: Millis,
) -> NewOrder {
    let hh = household(p.household, day_start);
    let appliance = &hh.appliances[p.appliance];
    let problem = match (p.callback, p.service_type) {
        (true, _) => "上次维修后同样故障再次出现 / Same fault again after the last repair",
        (false, ServiceType::Repair) => "设备故障，无法正常使用 / Appliance faulty, not working",
        (false, ServiceType::Installation) => "新机安装 / Install the new appliance",
        (false, ServiceType::Maintenance) => "年度清洗保养 / Yearly cleaning and care",
    };
    let number = OrderNo {
        date: Date::local(created, CENTRE_OFFSET_MINUTES),
        prefix: PREFIX.to_owned(),
        seq: i + 1,
    };
    let start = created + arrive_after;
    NewOrder {
        order_id: format!("o-hist-{:03}", i + 1),
        order_no: number.format(),
        customer: Customer {
            household_id: hh.household_id.clone(),
            name: hh.name.clone(),
            phone: hh.phones[0].clone(),
            address: hh.address.clone(),
            tier: hh.tier,
            notes: hh.notes.clone(),
            preferences: hh.preferences.clone(),
        },
        appliance_id: appliance.id.clone(),
        appliances: hh.appliances.clone(),
        service_type: p.service_type,
        problem: problem.to_owned(),
        schedule: Some(Window {
            start_ms: start,
            end_ms: start + 2 * HOUR,
        }),
    }
}

/// The part a repair of `category` needs (`r` picks one): part number, quantity, serialised.
fn repair_part(category: &str, r: u64) -> (&'static str, i64, bool) {
    match category {
        "air-conditioner" => pick(
            &[
                ("AC-CAP-35UF", 1, false),
                ("AC-PCB-KFR35", 1, true),
                ("AC-CAP-35UF", 1, false),
                ("AC-FAN-MOTOR", 1, true),
                ("GEN-FUSE-10A", 2, false),
            ],
            r,
            8,
        ),
        "washer" => pick(
            &[("WM-DRAIN-PUMP", 1, false), ("WM-DOOR-LOCK", 1, false)],
            r,
            8,
        ),
        _ => pick(&[("WH-ANODE", 1, false), ("GEN-FUSE-10A", 1, false)], r, 8),
    }
}

/// The job's edits: the demo job ([`seed::job_edits`]) with its part replaced by the job's own
/// (from the warehouse, no faulty part awaited) and its rating replaced by the job's.
fn edits(
    i: u32,
    p: &Plan,
    category: &str,
    prefix: &str,
    signer: &str,
    image: &str,
) -> Vec<VisitEdit> {
    let r = mix(u64::from(i) << 8 | 1);
    let stars = if p.callback {
        pick(&[3, 2, 4], r, 16)
    } else {
        pick(&[5, 5, 4, 5, 5, 3, 5, 4, 5, 4, 5, 1, 5], r, 16)
    };
    let mut out = Vec::new();
    for e in seed::job_edits(p.service_type, prefix) {
        match e {
            VisitEdit::AddPart { id, .. } => {
                let (part_no, qty, serialised) = repair_part(category, r);
                out.push(VisitEdit::AddPart {
                    id,
                    part_no: part_no.to_owned(),
                    qty,
                    faulty_serial: String::new(),
                    replacement_serial: if serialised {
                        format!("NEW-{:06}", r % 1_000_000)
                    } else {
                        String::new()
                    },
                    source: StockSource::Warehouse,
                });
            }
            VisitEdit::Rate { .. } => out.push(VisitEdit::Rate {
                stars,
                comment: rating_comment(stars).to_owned(),
            }),
            other => out.push(other),
        }
    }
    out.push(seed::sign_edit(prefix, signer, image));
    out
}

fn rating_comment(stars: i64) -> &'static str {
    match stars {
        5 => "师傅很专业 / very professional",
        4 => "不错，来得稍晚 / good, came a little late",
        3 => "一般 / average",
        _ => "问题没有彻底解决 / the problem is not really solved",
    }
}

/// When each of `edits` happens: responded `respond_after` after `created`, on the way half an hour
/// before arriving at `arrived`, the work spread over `on_site` until work done, then the
/// customer's confirmations, rating and signature a minute apart.
fn times(
    edits: &[VisitEdit],
    created: Millis,
    respond_after: Millis,
    arrived: Millis,
    on_site: Millis,
) -> Vec<Millis> {
    let work = edits.len() as Millis;
    let mut at = arrived;
    edits
        .iter()
        .map(|e| {
            at = match e {
                VisitEdit::Progress {
                    kind: ProgressKind::Accepted,
                    ..
                } => created + respond_after,
                VisitEdit::Progress {
                    kind: ProgressKind::EnRoute,
                    ..
                } => arrived - 30 * MINUTE,
                VisitEdit::Progress {
                    kind: ProgressKind::Arrived,
                    ..
                } => arrived,
                VisitEdit::Progress {
                    kind: ProgressKind::WorkDone,
                    ..
                } => arrived + on_site,
                _ if at < arrived + on_site => (at + on_site / work).min(arrived + on_site - 1),
                _ => at + MINUTE,
            };
            at
        })
        .collect()
}

/// The reference documents and technicians the history is built with.
#[derive(Debug, Clone, Copy)]
pub struct HistoryContext<'a> {
    pub library: &'a crate::reference::TemplateLibrary,
    pub fees: &'a FeeSchedule,
    pub parts: &'a PartsCatalogue,
    /// Jobs alternate between them.
    pub technicians: &'a [TechnicianProfile],
    /// The signature image every history visit is signed with.
    pub signature_sha256: &'a str,
    pub device_id: &'a str,
}

/// Job `i` of the history before `day_start`: its order (created, assigned) and the signed visit.
pub fn job(
    ctx: &HistoryContext<'_>,
    i: u32,
    day_start: Millis,
) -> Result<(Order, Visit), DomainError> {
    let p = plan(i);
    let r = mix(u64::from(i));
    let tech = &ctx.technicians[i as usize % ctx.technicians.len()];
    let spacing = HISTORY_DAYS * DAY / Millis::from(HISTORY_JOBS);
    let day = day_start - HISTORY_DAYS * DAY + Millis::from(i) * spacing;
    // Created in the morning or early afternoon (UTC 00:00 is 08:00 in the centre).
    let created = day - day.rem_euclid(DAY) + pick(&[30, 75, 150, 240, 300], r, 4) * MINUTE;
    let respond_after = pick(&[8, 15, 25, 40, 12, 75, 20, 150, 18, 35], r, 12) * MINUTE;
    let arrive_target = SlaPolicy::PUBLISHED.targets(tier_of(&p), 0).arrive_by_ms;
    let arrive_share = pick(&[30, 50, 60, 70, 45, 80, 90, 115, 55, 65], r, 20);
    let arrive_after = arrive_target * arrive_share / 100;
    let on_site = pick(&[40, 55, 70, 90, 65, 120, 150, 80], r, 28) * MINUTE;
    let mut order = Order::create(
        new_order(i, &p, created, arrive_after, day_start),
        &SlaPolicy::PUBLISHED,
        created,
    )?;
    order.assign(
        &format!("hist-{i}"),
        tech,
        "",
        DISPATCHER,
        created + 2 * MINUTE,
    )?;
    let mut visit = Visit::start(&order, &tech.technician_id, ctx.library)?;
    let category = order
        .appliance()
        .map_or("", |a| a.category.as_str())
        .to_owned();
    let prefix = format!("{}-h", order.order_id);
    let edits = edits(
        i,
        &p,
        &category,
        &prefix,
        &order.customer.name,
        ctx.signature_sha256,
    );
    // Nobody arrives before having responded and travelled.
    let arrived = (created + arrive_after).max(created + respond_after + 45 * MINUTE);
    let at = times(&edits, created, respond_after, arrived, on_site);
    for (e, now) in edits.into_iter().zip(at) {
        let ectx = EditContext {
            order: &order,
            library: ctx.library,
            fees: ctx.fees,
            parts: ctx.parts,
            profile: tech,
            device_id: ctx.device_id,
            now,
        };
        edit::apply(&mut visit, e, &ectx)?;
    }
    Ok((order, visit))
}

fn tier_of(p: &Plan) -> Tier {
    CUSTOMERS[p.household % CUSTOMERS.len()].3
}

/// Every job of the history before `day_start`, oldest first.
pub fn jobs(
    ctx: &HistoryContext<'_>,
    day_start: Millis,
) -> Result<Vec<(Order, Visit)>, DomainError> {
    (0..HISTORY_JOBS).map(|i| job(ctx, i, day_start)).collect()
}

/// The follow-up calls of the history's `jobs` (as [`jobs`] returns them, oldest first) made by
/// the dispatcher through [`followup::record`], halfway through each call's window: those of jobs
/// signed more than [`CALLS_OPEN_DAYS`] before `day_start` (and since the follow-ups started),
/// the customer satisfied except every [`NO_ANSWER_EVERY`]th call, which nobody answered. The
/// last week's calls are left to make, so the demo's Follow-ups list is a believable one.
pub fn answer_calls(
    jobs: &mut [(Order, Visit)],
    settings: &ServiceSettings,
    day_start: Millis,
) -> Result<(), DomainError> {
    let mut made = 0;
    for (order, visit) in jobs.iter_mut() {
        let Some(signed) = visit.signature.as_ref().map(|s| s.signed_at_ms) else {
            continue;
        };
        if signed < settings.follow_ups_from_ms || signed >= day_start - CALLS_OPEN_DAYS * DAY {
            continue;
        }
        made += 1;
        let outcome = if made % NO_ANSWER_EVERY == 0 {
            CallOutcome::NoAnswer
        } else {
            CallOutcome::Satisfied
        };
        let answer = Answer {
            call_id: format!("{}-call-1", order.order_id),
            complaint_id: format!("{}-complaint-1", order.order_id),
            technician_id: visit.technician_id.clone(),
            outcome,
            words: String::new(),
        };
        let at = signed + settings.follow_up_within_ms() / 2;
        followup::record(
            order,
            std::slice::from_ref(visit),
            settings,
            answer,
            DISPATCHER,
            at,
        )?;
    }
    Ok(())
}
