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

/// A technician profile with a certificate valid for a year from `now`.
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
    }
}

/// A demo order for a household; `n` varies the customer and appliance.
pub fn order(n: u32, day_start: Millis) -> NewOrder {
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
    const PREFS: [&str; 4] = [
        "客户为回族，请勿携带猪肉制品入户 / Muslim household: no pork products inside",
        "家中有婴儿，请轻声操作 / Baby at home: please keep noise low",
        "请提前 30 分钟电话联系 / Call 30 minutes before arrival",
        "家中有猫，请随手关门 / Cat at home: keep doors closed",
    ];
    const PROBLEMS: [(&str, ServiceType, &str, &str, &str); 3] = [
        (
            "空调不制冷，室外机不启动 / AC not cooling, outdoor unit does not start",
            ServiceType::Repair,
            "air-conditioner",
            "Haier",
            "KFR-35GW/03",
        ),
        (
            "新购空调安装 / Install newly bought air-conditioner",
            ServiceType::Installation,
            "air-conditioner",
            "Haier",
            "KFR-50LW/07",
        ),
        (
            "空调年度清洗保养 / Yearly AC cleaning and care",
            ServiceType::Maintenance,
            "air-conditioner",
            "Casarte",
            "CAP-72LW",
        ),
    ];
    let (name, phone, address, tier) = NAMES[(n as usize) % NAMES.len()];
    let (problem, service_type, category, brand, model) = PROBLEMS[(n as usize) % PROBLEMS.len()];
    let household = format!("hh-{}", (n as usize) % NAMES.len() + 1);
    let appliance_id = format!("ap-{n}");
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
            notes: "单元门密码 1234# / Door code 1234#".to_owned(),
            preferences: vec![PREFS[(n as usize) % PREFS.len()].to_owned()],
        },
        appliances: vec![
            Appliance {
                id: appliance_id.clone(),
                category: category.to_owned(),
                brand: brand.to_owned(),
                model: model.to_owned(),
                serial: format!("SN{:010}", 4_200_000_000u64 + n as u64),
                purchase_date_ms: Some(day_start - YEAR),
                warranty_until_ms: Some(day_start + 2 * YEAR - (n as i64 % 2) * 3 * YEAR),
            },
            Appliance {
                id: format!("ap-{n}-fridge"),
                category: "fridge".to_owned(),
                brand: "Haier".to_owned(),
                model: "BCD-470WDPG".to_owned(),
                serial: format!("SF{:010}", 5_100_000_000u64 + n as u64),
                purchase_date_ms: Some(day_start - 3 * YEAR),
                warranty_until_ms: Some(day_start - YEAR),
            },
        ],
        appliance_id,
        service_type,
        problem: problem.to_owned(),
        schedule: Some(Window {
            start_ms: day_start + 9 * HOUR + slot,
            end_ms: day_start + 11 * HOUR + slot,
        }),
    }
}

/// The edits of a whole job as a technician and customer make them in the demo: progress, every
/// required checklist answer of the service type's template and `haier-12345`, a part and fee
/// lines (repair), the customer's confirmations and rating — everything but the signature, which
/// needs the customer's image ([`sign_edit`]). Entry ids start with `prefix`.
pub fn job_edits(service_type: ServiceType, prefix: &str) -> Vec<crate::edit::VisitEdit> {
    use crate::edit::VisitEdit as E;
    use crate::progress::ProgressKind as P;
    use crate::reference::Confirmation;
    use crate::visit::{CheckResult, Outcome, StockSource};
    let id = |n: &str| format!("{prefix}-{n}");
    let answer = |t: &str, item: &str, outcome: Outcome, note: &str| E::Answer {
        template_id: t.to_owned(),
        item_id: item.to_owned(),
        outcome,
        note: note.to_owned(),
    };
    let reading = |value: f64, unit: &str| Outcome::Reading {
        value,
        unit: unit.to_owned(),
    };
    let photo = |t: &str, item: &str, seed: u8| E::AttachPhoto {
        template_id: t.to_owned(),
        item_id: item.to_owned(),
        sha256: format!("{:064x}", u64::from(seed) + 0xfeed),
    };
    let h = crate::templates::HAIER_12345;
    let mut e = vec![
        E::Progress {
            id: id("accepted"),
            kind: P::Accepted,
        },
        E::Progress {
            id: id("en-route"),
            kind: P::EnRoute,
        },
        E::Progress {
            id: id("arrived"),
            kind: P::Arrived,
        },
        answer(h, "cert.shown", Outcome::Done, ""),
        answer(h, "card.given", Outcome::Done, ""),
        answer(h, "shoe.covers", Outcome::Done, ""),
        answer(h, "mat.laid", Outcome::Done, ""),
        answer(h, "cloth.brought", Outcome::Done, ""),
        E::Progress {
            id: id("started"),
            kind: P::WorkStarted,
        },
    ];
    match service_type {
        ServiceType::Repair => e.extend([
            answer(
                "repair",
                "repair.symptom",
                Outcome::Done,
                "outdoor unit silent, run capacitor bulged",
            ),
            answer("repair", "repair.fault_photo", Outcome::Done, ""),
            photo("repair", "repair.fault_photo", 1),
            answer("repair", "repair.supply_voltage", reading(223.0, "V"), ""),
            answer("repair", "repair.insulation", reading(120.0, "MΩ"), ""),
            E::AddPart {
                id: id("part"),
                part_no: "AC-CAP-35UF".to_owned(),
                qty: 1,
                faulty_serial: "CAP-OLD-7731".to_owned(),
                replacement_serial: String::new(),
                source: StockSource::Personal,
            },
            answer("repair", "repair.part_replaced", Outcome::Done, ""),
            answer(
                "repair",
                "repair.run_test",
                Outcome::Pass,
                "outlet air 12 °C",
            ),
            E::AddFee {
                id: id("fee-labour"),
                code: "labour.repair.minor".to_owned(),
                qty: 1,
            },
        ]),
        ServiceType::Installation => e.extend([
            answer("installation", "inst.site_survey", Outcome::Done, ""),
            answer("installation", "inst.mounting", Outcome::Pass, ""),
            photo("installation", "inst.mounting", 2),
            answer("installation", "inst.earth", reading(1.2, "Ω"), ""),
            answer(
                "installation",
                "inst.supply_voltage",
                reading(221.0, "V"),
                "",
            ),
            answer("installation", "inst.drain", Outcome::Pass, ""),
            answer("installation", "inst.trial_run", Outcome::Pass, ""),
            E::AddFee {
                id: id("fee-install"),
                code: "labour.install.ac".to_owned(),
                qty: 1,
            },
        ]),
        ServiceType::Maintenance => e.extend([
            answer("maintenance", "maint.filter", Outcome::Done, ""),
            answer("maintenance", "maint.coil", Outcome::Done, ""),
            answer(
                "maintenance",
                "maint.supply_voltage",
                reading(219.0, "V"),
                "",
            ),
            answer(
                "maintenance",
                "maint.refrigerant_pressure",
                reading(0.9, "MPa"),
                "",
            ),
            answer("maintenance", "maint.run_test", Outcome::Pass, ""),
            E::AddFee {
                id: id("fee-maint"),
                code: "labour.maint.ac".to_owned(),
                qty: 1,
            },
        ]),
    }
    e.extend([
        E::AddFee {
            id: id("fee-visit"),
            code: "visit".to_owned(),
            qty: 1,
        },
        answer(h, "fees.published", Outcome::Done, ""),
        answer(h, "power.tested", Outcome::Pass, ""),
        answer(h, "site.cleaned", Outcome::Done, ""),
        E::AddHomeCheck {
            id: id("home-fridge"),
            appliance: "fridge BCD-470WDPG".to_owned(),
            result: CheckResult::Ok,
            note: "door seal fine".to_owned(),
        },
        answer(h, "home.check", Outcome::Done, ""),
        E::SetNotes {
            diagnosis: "see checklist".to_owned(),
            work_performed: format!("{service_type:?} completed and tested"),
        },
        E::Progress {
            id: id("done"),
            kind: P::WorkDone,
        },
    ]);
    e.extend(Confirmation::ALL.map(|c| E::Confirm {
        confirmation: c,
        value: true,
    }));
    e.push(E::Rate {
        stars: 5,
        comment: "师傅很专业 / very professional".to_owned(),
    });
    e
}

/// The customer's signature edit for [`job_edits`].
pub fn sign_edit(prefix: &str, signer_name: &str, image_sha256: &str) -> crate::edit::VisitEdit {
    crate::edit::VisitEdit::Sign {
        event_id: format!("{prefix}-signed"),
        signer_name: signer_name.to_owned(),
        image_sha256: image_sha256.to_owned(),
    }
}
