//! Demo company data: the published fee schedule, a parts catalogue, two technicians and a day of
//! orders. Used by `onsite-relay seed`, the headless demo and tests — never by production paths
//! that read real data.

use crate::order::{Appliance, Customer, NewOrder, Tier, Window};
use crate::reference::{
    CatalogPart, FeeItem, FeeSchedule, Label, PartsCatalogue, ServiceType, TechnicianProfile,
};
use crate::templates::SCHEMA;
use crate::{HOUR, Millis};

/// 365 days in milliseconds.
pub const YEAR: Millis = 365 * 24 * HOUR;

fn fee(
    code: &str,
    zh: &str,
    en: &str,
    cat_zh: &str,
    cat_en: &str,
    cents: i64,
    unit_zh: &str,
    unit_en: &str,
) -> FeeItem {
    FeeItem {
        code: code.to_owned(),
        label: Label::new(zh, en),
        category: Label::new(cat_zh, cat_en),
        unit_price_cents: cents,
        unit: Label::new(unit_zh, unit_en),
    }
}

/// The demo centre's bonus formula (`ref:bonus`). The seed says only that the bonus is computed
/// from order counts, satisfaction and cost, not how it is paid, so this is a demo default: 30
/// yuan per completed order; with at least 5 completions up to 500 yuan for first-time fixes, 300
/// for five-star ratings, 200 for responses in time when at least 90 % were, minus up to 1,000
/// for repeat repairs above a 5 % tolerance; no floor, capped at 5,000 yuan.
pub fn bonus_formula(effective_from: Millis) -> crate::bonus::BonusFormula {
    use crate::bonus::{BonusFormula, BonusTerm};
    let term = |figure: &str, weight_cents: i64, threshold: Option<f64>| BonusTerm {
        figure: figure.to_owned(),
        weight_cents,
        threshold,
    };
    BonusFormula {
        schema: crate::bonus::SCHEMA,
        version: 1,
        effective_from_ms: effective_from,
        currency: "CNY".into(),
        per_completion_cents: 3_000,
        min_completions: 5,
        terms: vec![
            term("first_time_fix_rate", 50_000, None),
            term("five_star_share", 30_000, None),
            term("response_met_rate", 20_000, Some(0.9)),
            term("repeat_repair_rate", -100_000, Some(0.05)),
        ],
        floor_cents: 0,
        cap_cents: 500_000,
    }
}

/// The demo service company's name, on its fee schedule and so on every record it signs.
pub const COMPANY: &str = "Onsite 上门服务";

/// The demo company's published fee schedule (二公开: 统一收费标准).
pub fn fee_schedule(effective_from: Millis) -> FeeSchedule {
    FeeSchedule {
        schema: SCHEMA,
        company: COMPANY.to_owned(),
        version: 1,
        currency: "CNY".to_owned(),
        effective_from_ms: effective_from,
        items: vec![
            fee(
                "visit",
                "上门服务费",
                "Call-out fee",
                "服务费",
                "Service",
                3000,
                "次",
                "visit",
            ),
            fee(
                "visit.warranty",
                "保内上门服务费",
                "Call-out fee (in warranty)",
                "服务费",
                "Service",
                0,
                "次",
                "visit",
            ),
            fee(
                "labour.repair.minor",
                "小修工时费",
                "Minor repair labour",
                "工时费",
                "Labour",
                5000,
                "项",
                "job",
            ),
            fee(
                "labour.repair.major",
                "大修工时费",
                "Major repair labour",
                "工时费",
                "Labour",
                12000,
                "项",
                "job",
            ),
            fee(
                "labour.install.ac",
                "空调安装费",
                "Air-conditioner installation",
                "工时费",
                "Labour",
                15000,
                "台",
                "unit",
            ),
            fee(
                "labour.maint.ac",
                "空调清洗保养",
                "Air-conditioner cleaning and care",
                "工时费",
                "Labour",
                8000,
                "台",
                "unit",
            ),
            fee(
                "refrigerant.r32",
                "加注冷媒 R32",
                "Refrigerant top-up R32",
                "材料费",
                "Materials",
                6000,
                "次",
                "fill",
            ),
            fee(
                "pipe.extra",
                "加长铜管",
                "Extra copper pipe",
                "材料费",
                "Materials",
                6500,
                "米",
                "metre",
            ),
        ],
    }
}

fn part(part_no: &str, zh: &str, en: &str, cents: i64, serialised: bool) -> CatalogPart {
    CatalogPart {
        part_no: part_no.to_owned(),
        name: Label::new(zh, en),
        unit_price_cents: cents,
        serialised,
    }
}

/// The demo parts catalogue.
pub fn parts_catalogue() -> PartsCatalogue {
    PartsCatalogue {
        schema: SCHEMA,
        parts: vec![
            part(
                "AC-CAP-35UF",
                "压缩机启动电容 35μF",
                "Compressor run capacitor 35 µF",
                4500,
                false,
            ),
            part(
                "AC-PCB-KFR35",
                "室内机主板 KFR-35GW",
                "Indoor control board KFR-35GW",
                28000,
                true,
            ),
            part(
                "AC-FAN-MOTOR",
                "室外风机电机",
                "Outdoor fan motor",
                32000,
                true,
            ),
            part(
                "WM-DRAIN-PUMP",
                "洗衣机排水泵",
                "Washer drain pump",
                9000,
                false,
            ),
            part(
                "WM-DOOR-LOCK",
                "洗衣机门锁",
                "Washer door lock",
                6500,
                false,
            ),
            part(
                "FR-THERMOSTAT",
                "冰箱温控器",
                "Fridge thermostat",
                7500,
                false,
            ),
            part(
                "WH-ANODE",
                "热水器镁棒",
                "Water-heater anode rod",
                5000,
                false,
            ),
            part("GEN-FUSE-10A", "保险管 10A", "Fuse 10 A", 300, false),
        ],
    }
}

/// A technician profile with a certificate issued a year before `now` and valid for a year from
/// `now`.
pub fn technician(id: &str, name: &str, phone: &str, cert: &str, now: Millis) -> TechnicianProfile {
    TechnicianProfile {
        schema: SCHEMA,
        technician_id: id.to_owned(),
        name: name.to_owned(),
        phone: phone.to_owned(),
        certificate_id: cert.to_owned(),
        certificate_stars: 5,
        certificate_expiry_ms: now + YEAR,
        qualifications: ServiceType::ALL.to_vec(),
        certificate_withdrawn_at_ms: None,
        certificate_valid_from_ms: Some(now - YEAR),
        certificate_actions: Vec::new(),
    }
}

/// The demo households: name, phone, address, tier.
const NAMES: [(&str, &str, &str, Tier); 4] = [
    (
        "张伟",
        "13800000001",
        "上海市浦东新区世纪大道 100 号 1 单元 1201",
        Tier::Gold,
    ),
    (
        "李娜",
        "13800000002",
        "上海市徐汇区漕溪北路 88 号 3 号楼 502",
        Tier::Standard,
    ),
    (
        "王芳",
        "13800000003",
        "上海市静安区南京西路 1500 弄 12 号",
        Tier::Platinum,
    ),
    (
        "刘洋",
        "13800000004",
        "上海市闵行区七莘路 2000 号 8 栋 301",
        Tier::Standard,
    ),
];
/// Each demo household's preference.
const PREFS: [&str; 4] = [
    "客户为回族，请勿携带猪肉制品入户 / Muslim household: no pork products inside",
    "家中有婴儿，请轻声操作 / Baby at home: please keep noise low",
    "请提前 30 分钟电话联系 / Call 30 minutes before arrival",
    "家中有猫，请随手关门 / Cat at home: keep doors closed",
];
/// The demo centre's service settings (`ref:service`): follow-up calls from `follow_ups_from` on,
/// within 48 hours of the signature, retried 4 hours after no answer; complaints resolved within
/// 48 hours; air-conditioners cleaned yearly, water-purifier filters every six months, fridge
/// condensers every two years.
pub fn service_settings(follow_ups_from: Millis) -> crate::service::ServiceSettings {
    use crate::service::{MaintenanceInterval, SCHEMA, ServiceSettings};
    let every = |category: &str, months: u32, task: &str| MaintenanceInterval {
        category: category.to_owned(),
        months,
        task: task.to_owned(),
    };
    ServiceSettings {
        schema: SCHEMA,
        version: 1,
        follow_ups_from_ms: follow_ups_from,
        follow_up_within_hours: 48,
        follow_up_retry_hours: 4,
        complaint_resolve_hours: 48,
        maintenance: vec![
            every(
                "air-conditioner",
                12,
                "空调清洗保养 / Air-conditioner cleaning",
            ),
            every(
                "water-purifier",
                6,
                "净水器更换滤芯 / Water-purifier filter change",
            ),
            every("fridge", 24, "冰箱冷凝器清洁 / Fridge condenser cleaning"),
        ],
    }
}

/// How many demo households there are (`hh-1` … `hh-4`).
pub const HOUSEHOLDS: usize = NAMES.len();

/// The registry document of demo household `h` (0–3, id `hh-<h+1>`): the customer and
/// appliances every demo order of the household copies.
pub fn household(h: usize, day_start: Millis) -> crate::household::Household {
    let (name, phone, address, tier) = NAMES[h % NAMES.len()];
    crate::household::Household {
        schema: SCHEMA,
        household_id: format!("hh-{}", h % NAMES.len() + 1),
        name: name.to_owned(),
        phones: vec![phone.to_owned()],
        address: address.to_owned(),
        tier,
        notes: DOOR_NOTES.to_owned(),
        preferences: vec![PREFS[h % PREFS.len()].to_owned()],
        appliances: household_appliances(h % NAMES.len(), day_start),
        created_at_ms: day_start - YEAR,
        updated_at_ms: day_start - YEAR,
        reminders: Vec::new(),
    }
}

const DOOR_NOTES: &str = "单元门密码 1234# / Door code 1234#";

/// A demo order for a household; `n` varies the customer and appliance.
pub fn order(n: u32, day_start: Millis) -> NewOrder {
    const PROBLEMS: [(&str, ServiceType); 3] = [
        (
            "空调不制冷，室外机不启动 / AC not cooling, outdoor unit does not start",
            ServiceType::Repair,
        ),
        (
            "新购空调安装 / Install newly bought air-conditioner",
            ServiceType::Installation,
        ),
        (
            "空调年度清洗保养 / Yearly AC cleaning and care",
            ServiceType::Maintenance,
        ),
    ];
    let h = (n as usize) % NAMES.len();
    let (name, phone, address, tier) = NAMES[h];
    let (problem, service_type) = PROBLEMS[(n as usize) % PROBLEMS.len()];
    let household = format!("hh-{}", h + 1);
    let appliances = household_appliances(h, day_start);
    let appliance_id = appliances[0].id.clone();
    let slot = (n as i64 % 4) * 2 * HOUR;
    NewOrder {
        order_id: format!("o-{n:05}"),
        order_no: format!("WO-{:05}", n),
        customer: Customer {
            household_id: household,
            name: name.to_owned(),
            phone: phone.to_owned(),
            address: address.to_owned(),
            tier,
            notes: DOOR_NOTES.to_owned(),
            preferences: vec![PREFS[(n as usize) % PREFS.len()].to_owned()],
        },
        appliances,
        appliance_id,
        service_type,
        problem: problem.to_owned(),
        schedule: Some(Window {
            start_ms: day_start + 9 * HOUR + slot,
            end_ms: day_start + 11 * HOUR + slot,
        }),
    }
}

/// The appliances of demo household `h` (0–3): the same ids, models and serials on every order
/// of the household, so its past visits are found per appliance. The first is the
/// air-conditioner the orders are about.
fn household_appliances(h: usize, day_start: Millis) -> Vec<Appliance> {
    const AC: [(&str, &str); 4] = [
        ("Haier", "KFR-35GW/03"),
        ("Haier", "KFR-50LW/07"),
        ("Casarte", "CAP-72LW"),
        ("Haier", "KFR-26GW/12"),
    ];
    let (brand, model) = AC[h % AC.len()];
    vec![
        Appliance {
            id: format!("ap-hh{}-ac", h + 1),
            category: "air-conditioner".to_owned(),
            brand: brand.to_owned(),
            model: model.to_owned(),
            serial: format!("SN{:010}", 4_200_000_000u64 + h as u64),
            purchase_date_ms: Some(day_start - YEAR),
            warranty_until_ms: Some(day_start + 2 * YEAR - (h as i64 % 2) * 3 * YEAR),
        },
        Appliance {
            id: format!("ap-hh{}-fridge", h + 1),
            category: "fridge".to_owned(),
            brand: "Haier".to_owned(),
            model: "BCD-470WDPG".to_owned(),
            serial: format!("SF{:010}", 5_100_000_000u64 + h as u64),
            purchase_date_ms: Some(day_start - 3 * YEAR),
            warranty_until_ms: Some(day_start - YEAR),
        },
    ]
}

/// How many orders the demo schedules a week after its day (after the day's orders, numbered on
/// from them, assigned alternately like them), so a technician has upcoming work to find.
pub const UPCOMING_ORDERS: u32 = 2;

/// Days from the demo day to the upcoming orders.
pub const UPCOMING_AFTER_DAYS: i64 = 7;

/// How many past orders [`past_order`] gives every demo household.
pub const PAST_ORDERS: u32 = 2;

/// Past order `k` (`0..PAST_ORDERS`, oldest first) of the household of demo order `n`
/// ([`order`]`(n, …)`): its air-conditioner installed 300 days before `day_start`, then serviced
/// 60 days before. Ids are `o-hh<household>-<k>`, numbers `WO-H<household><k>`.
pub fn past_order(n: u32, k: u32, day_start: Millis) -> NewOrder {
    const PAST: [(Millis, &str, ServiceType); PAST_ORDERS as usize] = [
        (
            300,
            "新购空调安装 / Install newly bought air-conditioner",
            ServiceType::Installation,
        ),
        (
            60,
            "空调年度清洗保养 / Yearly AC cleaning and care",
            ServiceType::Maintenance,
        ),
    ];
    let (days_ago, problem, service_type) = PAST[k as usize % PAST.len()];
    let mut o = order(n, day_start - days_ago * 24 * HOUR);
    let h = n % 4 + 1;
    o.order_id = format!("o-hh{h}-{k}");
    o.order_no = format!("WO-H{h}{k:02}");
    o.problem = problem.to_owned();
    o.service_type = service_type;
    o
}
/// One step of the demo job as constant data; [`job_edits`] turns it into a visit edit. Ids are
/// suffixes of the job's entry-id prefix.
enum Step {
    Progress(&'static str, crate::progress::ProgressKind),
    /// Template, item, answer, note.
    Answer(&'static str, &'static str, Answer, &'static str),
    /// Template, item, photo seed (the photo's SHA-256 is derived from it).
    Photo(&'static str, &'static str, u8),
    /// Id, part number, faulty serial: one part from personal stock.
    Part(&'static str, &'static str, &'static str),
    /// Id, fee code: one of it.
    Fee(&'static str, &'static str),
    /// Id, appliance, note: checked and fine.
    HomeCheck(&'static str, &'static str, &'static str),
    /// Diagnosis and work performed (names the service type).
    Notes,
}

/// A checklist answer as constant data.
enum Answer {
    Done,
    Pass,
    /// Value and unit.
    Reading(f64, &'static str),
}

/// Arrival: progress to work started and the star-standard items done on arrival.
const ARRIVAL: &[Step] = {
    use crate::progress::ProgressKind as P;
    use crate::templates::HAIER_12345 as H;
    &[
        Step::Progress("accepted", P::Accepted),
        Step::Progress("en-route", P::EnRoute),
        Step::Progress("arrived", P::Arrived),
        Step::Answer(H, "cert.shown", Answer::Done, ""),
        Step::Answer(H, "card.given", Answer::Done, ""),
        Step::Answer(H, "shoe.covers", Answer::Done, ""),
        Step::Answer(H, "mat.laid", Answer::Done, ""),
        Step::Answer(H, "cloth.brought", Answer::Done, ""),
        Step::Progress("started", P::WorkStarted),
    ]
};

/// The repair checklist with a part and the labour fee.
const REPAIR: &[Step] = &[
    Step::Answer(
        "repair",
        "repair.symptom",
        Answer::Done,
        "outdoor unit silent, run capacitor bulged",
    ),
    Step::Answer("repair", "repair.fault_photo", Answer::Done, ""),
    Step::Photo("repair", "repair.fault_photo", 1),
    Step::Answer(
        "repair",
        "repair.supply_voltage",
        Answer::Reading(223.0, "V"),
        "",
    ),
    Step::Answer(
        "repair",
        "repair.insulation",
        Answer::Reading(120.0, "MΩ"),
        "",
    ),
    Step::Part("part", "AC-CAP-35UF", "CAP-OLD-7731"),
    Step::Answer("repair", "repair.part_replaced", Answer::Done, ""),
    Step::Answer(
        "repair",
        "repair.run_test",
        Answer::Pass,
        "outlet air 12 °C",
    ),
    Step::Fee("fee-labour", "labour.repair.minor"),
];

/// The installation checklist and the labour fee.
const INSTALLATION: &[Step] = &[
    Step::Answer("installation", "inst.site_survey", Answer::Done, ""),
    Step::Answer("installation", "inst.mounting", Answer::Pass, ""),
    Step::Photo("installation", "inst.mounting", 2),
    Step::Answer("installation", "inst.earth", Answer::Reading(1.2, "Ω"), ""),
    Step::Answer(
        "installation",
        "inst.supply_voltage",
        Answer::Reading(221.0, "V"),
        "",
    ),
    Step::Answer("installation", "inst.drain", Answer::Pass, ""),
    Step::Answer("installation", "inst.trial_run", Answer::Pass, ""),
    Step::Fee("fee-install", "labour.install.ac"),
];

/// The maintenance checklist and the labour fee.
const MAINTENANCE: &[Step] = &[
    Step::Answer("maintenance", "maint.filter", Answer::Done, ""),
    Step::Answer("maintenance", "maint.coil", Answer::Done, ""),
    Step::Answer(
        "maintenance",
        "maint.supply_voltage",
        Answer::Reading(219.0, "V"),
        "",
    ),
    Step::Answer(
        "maintenance",
        "maint.refrigerant_pressure",
        Answer::Reading(0.9, "MPa"),
        "",
    ),
    Step::Answer("maintenance", "maint.run_test", Answer::Pass, ""),
    Step::Fee("fee-maint", "labour.maint.ac"),
];

/// Wrapping up: visit fee, the remaining star-standard items, a home check, notes, work done.
const WRAP_UP: &[Step] = {
    use crate::progress::ProgressKind as P;
    use crate::templates::HAIER_12345 as H;
    &[
        Step::Fee("fee-visit", "visit"),
        Step::Answer(H, "fees.published", Answer::Done, ""),
        Step::Answer(H, "power.tested", Answer::Pass, ""),
        Step::Answer(H, "site.cleaned", Answer::Done, ""),
        Step::HomeCheck("home-fridge", "fridge BCD-470WDPG", "door seal fine"),
        Step::Answer(H, "home.check", Answer::Done, ""),
        Step::Notes,
        Step::Progress("done", P::WorkDone),
    ]
};

/// The edits of a whole job as a technician and customer make them in the demo: progress, every
/// required checklist answer of the service type's template and `haier-12345`, a part and fee
/// lines (repair), the customer's confirmations and rating — everything but the signature, which
/// needs the customer's image ([`sign_edit`]). Entry ids start with `prefix`.
pub fn job_edits(service_type: ServiceType, prefix: &str) -> Vec<crate::edit::VisitEdit> {
    use crate::edit::VisitEdit as E;
    let work = match service_type {
        ServiceType::Repair => REPAIR,
        ServiceType::Installation => INSTALLATION,
        ServiceType::Maintenance => MAINTENANCE,
    };
    let mut e: Vec<E> = [ARRIVAL, work, WRAP_UP]
        .into_iter()
        .flatten()
        .map(|step| step_edit(step, service_type, prefix))
        .collect();
    e.extend(crate::reference::Confirmation::ALL.map(|c| E::Confirm {
        confirmation: c,
        value: true,
    }));
    e.push(E::Rate {
        stars: 5,
        comment: "师傅很专业 / very professional".to_owned(),
    });
    e
}

/// The visit edit of one [`Step`] of the demo job.
fn step_edit(step: &Step, service_type: ServiceType, prefix: &str) -> crate::edit::VisitEdit {
    use crate::edit::VisitEdit as E;
    use crate::visit::{CheckResult, Outcome, StockSource};
    let id = |n: &str| format!("{prefix}-{n}");
    match *step {
        Step::Progress(n, kind) => E::Progress { id: id(n), kind },
        Step::Answer(template, item, ref answer, note) => E::Answer {
            template_id: template.to_owned(),
            item_id: item.to_owned(),
            outcome: match *answer {
                Answer::Done => Outcome::Done,
                Answer::Pass => Outcome::Pass,
                Answer::Reading(value, unit) => Outcome::Reading {
                    value,
                    unit: unit.to_owned(),
                },
            },
            note: note.to_owned(),
        },
        Step::Photo(template, item, seed) => E::AttachPhoto {
            template_id: template.to_owned(),
            item_id: item.to_owned(),
            sha256: format!("{:064x}", u64::from(seed) + 0xfeed),
        },
        Step::Part(n, part_no, faulty_serial) => E::AddPart {
            id: id(n),
            part_no: part_no.to_owned(),
            qty: 1,
            faulty_serial: faulty_serial.to_owned(),
            replacement_serial: String::new(),
            source: StockSource::Personal,
        },
        Step::Fee(n, code) => E::AddFee {
            id: id(n),
            code: code.to_owned(),
            qty: 1,
        },
        Step::HomeCheck(n, appliance, note) => E::AddHomeCheck {
            id: id(n),
            appliance: appliance.to_owned(),
            result: CheckResult::Ok,
            note: note.to_owned(),
        },
        Step::Notes => E::SetNotes {
            diagnosis: "see checklist".to_owned(),
            work_performed: format!("{service_type:?} completed and tested"),
        },
    }
}

/// The customer's signature edit for [`job_edits`].
pub fn sign_edit(prefix: &str, signer_name: &str, image_sha256: &str) -> crate::edit::VisitEdit {
    crate::edit::VisitEdit::Sign {
        event_id: format!("{prefix}-signed"),
        signer_name: signer_name.to_owned(),
        image_sha256: image_sha256.to_owned(),
    }
}
