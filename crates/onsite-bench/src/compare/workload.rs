//! The one workload file both sides of the comparison run: work orders of 20 scalar fields and a
//! 30-item checklist, the edits of the catch-up scenario, the completion and the orders of the
//! no-op scenario. Deterministic from a seed (`onsite-compare generate`).

use onsite_domain::reference::{
    ChecklistTemplate, ItemKind, Label, PhotoPolicy, ServiceType, TemplateItem, TemplateLibrary,
};
use onsite_domain::templates::{self, HAIER_12345};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// Answered checklist items per order, on both sides.
pub const CHECKLIST_ITEMS: usize = 30;

/// The sizes of a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sizes {
    /// Orders of scenarios 1–4 (1,000 in the full run).
    pub orders: usize,
    /// Orders on the device in scenario 5 (10,000), the first `orders` included.
    pub scale_orders: usize,
    /// Orders changed on each side in scenario 3 (50).
    pub edits: usize,
}

/// A work order as the reference stores it: 20 scalar fields and the checklist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkOrder {
    pub order_id: String,
    pub order_no: String,
    pub created_at_ms: i64,
    pub household_id: String,
    pub customer_name: String,
    pub phone: String,
    pub address: String,
    /// `Standard`, `Gold` or `Platinum`.
    pub tier: String,
    pub notes: String,
    pub appliance_id: String,
    pub category: String,
    pub brand: String,
    pub model: String,
    pub serial: String,
    /// Always `Repair`, so the checklist is the same 30 items.
    pub service_type: String,
    pub problem: String,
    pub window_start_ms: i64,
    pub window_end_ms: i64,
    pub status: String,
    pub assignee: Option<String>,
    /// The 30 items, unanswered.
    pub checklist: Vec<ChecklistEntry>,
}

/// One checklist item of an order: which template item it is, its label, its answer (none yet).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecklistEntry {
    pub template_id: String,
    pub item_id: String,
    pub label: String,
    pub answer: Option<Answer>,
}

/// An answer to a checklist item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Answer {
    Done,
    Pass,
    Reading { value: f64, unit: String },
}

/// A dispatcher's change to an order (scenario 3): new problem text and notes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderEdit {
    /// Index into `orders`.
    pub order: usize,
    pub problem: String,
    pub notes: String,
}

/// Scenario 4: what the technician records on one order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    pub order: usize,
    pub technician: String,
    /// One per checklist entry, in the order of the checklist.
    pub answers: Vec<AnsweredItem>,
    pub part: Part,
    pub fees: Vec<Fee>,
    pub home_check: String,
    pub diagnosis: String,
    pub work_performed: String,
    pub rating_stars: i64,
    pub rating_comment: String,
    pub signer_name: String,
    /// The customer's signature, a real PNG of about 5 KB, base64.
    pub signature_png_base64: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnsweredItem {
    pub template_id: String,
    pub item_id: String,
    pub answer: Answer,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Part {
    pub part_no: String,
    pub qty: i64,
    pub faulty_serial: String,
    pub replacement_serial: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fee {
    pub code: String,
    pub qty: i64,
}

/// The whole workload file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    pub seed: u64,
    pub sizes: Sizes,
    /// `scale_orders` orders; scenarios 1–4 use the first `sizes.orders`.
    pub orders: Vec<WorkOrder>,
    /// Scenario 3: changed by another device (reaching the device through the relay/server).
    pub relay_edits: Vec<OrderEdit>,
    /// Scenario 3: changed on the device itself while it was offline.
    pub device_edits: Vec<OrderEdit>,
    pub completion: Completion,
}

/// The checklist templates of the comparison: the built-in library with a `repair` version 2
/// whose items (the built-in repair items, no photo required, plus ticks) make the answerable
/// items of `haier-12345` and `repair` exactly [`CHECKLIST_ITEMS`]. The Onsite side stores it as
/// `ref:templates`.
pub fn template_library() -> TemplateLibrary {
    let mut library = templates::builtin_library();
    let haier = library.latest(HAIER_12345).expect("built-in").clone();
    let mut repair = library.latest("repair").expect("built-in").clone();
    let answerable = |t: &ChecklistTemplate| t.items.iter().filter(|i| answerable(&i.kind)).count();
    for item in &mut repair.items {
        item.photo = PhotoPolicy::None;
    }
    let mut n = 0;
    while answerable(&haier) + answerable(&repair) < CHECKLIST_ITEMS {
        n += 1;
        repair.items.push(TemplateItem {
            id: format!("repair.step_{n}"),
            group: "verification".to_owned(),
            label: Label::new(&format!("检查项 {n}"), &format!("Check step {n}")),
            kind: ItemKind::Tick,
            required: true,
            photo: PhotoPolicy::None,
        });
    }
    repair.version = 2;
    repair.key = "repair@2".to_owned();
    library.templates.push(repair);
    library
}

/// Items answered in the checklist (the rest are the customer's confirmations and the signature).
fn answerable(kind: &ItemKind) -> bool {
    !matches!(
        kind,
        ItemKind::CustomerConfirm { .. } | ItemKind::SignedRecord
    )
}

/// The 30 answerable items of a repair visit: `haier-12345`'s then `repair`'s.
fn checklist(library: &TemplateLibrary) -> Vec<(String, TemplateItem)> {
    [HAIER_12345, ServiceType::Repair.template_id()]
        .iter()
        .flat_map(|id| {
            let t = library.latest(id).expect("template in the library");
            t.items
                .iter()
                .filter(|i| answerable(&i.kind))
                .map(|i| (t.id.clone(), i.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

const SURNAMES: [&str; 8] = ["张", "李", "王", "刘", "陈", "杨", "赵", "黄"];
const GIVEN: [&str; 8] = ["伟", "娜", "芳", "强", "敏", "静", "磊", "洋"];
const DISTRICTS: [&str; 6] = ["浦东新区", "徐汇区", "闵行区", "静安区", "杨浦区", "长宁区"];
const APPLIANCES: [(&str, &str, &str); 4] = [
    ("air-conditioner", "Haier", "KFR-35GW"),
    ("washer", "Haier", "EG100HB"),
    ("fridge", "Haier", "BCD-470WDPG"),
    ("water-heater", "Haier", "EC6002-MC3"),
];
const TIERS: [&str; 3] = ["Standard", "Gold", "Platinum"];
const DAY_MS: i64 = 24 * 3_600_000;
/// 2026-12-01T00:00:00Z: the orders' creation day (a fixed date, so the file is reproducible).
const START_MS: i64 = 1_796_083_200_000;

fn order(rng: &mut StdRng, n: usize, items: &[(String, TemplateItem)]) -> WorkOrder {
    let (category, brand, model) = APPLIANCES[rng.random_range(0..APPLIANCES.len())];
    let start = START_MS + rng.random_range(1..14) * DAY_MS + rng.random_range(8..17) * 3_600_000;
    WorkOrder {
        order_id: format!("wo-{n:06}"),
        order_no: format!("WO-20261201-BENCH-{n:06}"),
        created_at_ms: START_MS + n as i64 * 1_000,
        household_id: format!("hh-{n:06}"),
        customer_name: format!(
            "{}{}",
            SURNAMES[rng.random_range(0..SURNAMES.len())],
            GIVEN[rng.random_range(0..GIVEN.len())]
        ),
        phone: format!("139{:08}", n),
        address: format!(
            "上海市{}测试路 {} 号 {} 室",
            DISTRICTS[rng.random_range(0..DISTRICTS.len())],
            rng.random_range(1..999),
            rng.random_range(101..2999)
        ),
        tier: TIERS[rng.random_range(0..TIERS.len())].to_owned(),
        notes: format!("请提前电话联系 / call ahead (order {n})"),
        appliance_id: format!("ap-{n:06}"),
        category: category.to_owned(),
        brand: brand.to_owned(),
        model: model.to_owned(),
        serial: format!("SN{:010}", rng.random_range(0..10_000_000_000u64)),
        service_type: "Repair".to_owned(),
        problem: format!("不制冷，外机不转 / not cooling, outdoor unit silent #{n}"),
        window_start_ms: start,
        window_end_ms: start + 2 * 3_600_000,
        status: "Open".to_owned(),
        assignee: None,
        checklist: items
            .iter()
            .map(|(t, i)| ChecklistEntry {
                template_id: t.clone(),
                item_id: i.id.clone(),
                label: i.label.en.clone(),
                answer: None,
            })
            .collect(),
    }
}

fn answer(kind: &ItemKind) -> Answer {
    match kind {
        ItemKind::PassFail => Answer::Pass,
        ItemKind::Reading { unit, min, max } => Answer::Reading {
            value: ((min + max) / 2.0).round(),
            unit: unit.clone(),
        },
        _ => Answer::Done,
    }
}

fn completion(items: &[(String, TemplateItem)], png: &[u8]) -> Completion {
    use base64::Engine;
    Completion {
        order: 0,
        technician: "tech.a".to_owned(),
        answers: items
            .iter()
            .map(|(t, i)| AnsweredItem {
                template_id: t.clone(),
                item_id: i.id.clone(),
                answer: answer(&i.kind),
                note: String::new(),
            })
            .collect(),
        part: Part {
            part_no: "AC-CAP-35UF".to_owned(),
            qty: 1,
            faulty_serial: "CAP-OLD-7731".to_owned(),
            replacement_serial: "CAP-NEW-0001".to_owned(),
        },
        fees: vec![
            Fee {
                code: "visit".to_owned(),
                qty: 1,
            },
            Fee {
                code: "labour.repair.minor".to_owned(),
                qty: 1,
            },
        ],
        home_check: "fridge BCD-470WDPG".to_owned(),
        diagnosis: "run capacitor bulged".to_owned(),
        work_performed: "capacitor replaced, run test passed".to_owned(),
        rating_stars: 5,
        rating_comment: "师傅很专业 / very professional".to_owned(),
        signer_name: "张伟".to_owned(),
        signature_png_base64: base64::engine::general_purpose::STANDARD.encode(png),
    }
}

fn edits(rng: &mut StdRng, orders: usize, count: usize, odd: bool, who: &str) -> Vec<OrderEdit> {
    // Relay-side edits touch even orders, device edits odd ones: 2 × count distinct orders.
    let count = count.min(orders / 2);
    let mut picked: Vec<usize> = (0..orders / 2).map(|k| 2 * k + usize::from(odd)).collect();
    for i in 0..count {
        let j = rng.random_range(i..picked.len());
        picked.swap(i, j);
    }
    picked.truncate(count);
    picked.sort_unstable();
    picked
        .into_iter()
        .map(|n| OrderEdit {
            order: n,
            problem: format!(
                "{who}: 客户改约，另需检查排水 / customer moved the visit, check the drain too #{n}"
            ),
            notes: format!("{who}: 门禁密码 4321 / gate code 4321 (order {n})"),
        })
        .collect()
}

/// The workload for `sizes` from `seed`; the same seed and sizes give the same file.
pub fn generate(seed: u64, sizes: Sizes) -> Workload {
    let mut rng = StdRng::seed_from_u64(seed);
    let items = checklist(&template_library());
    assert_eq!(
        items.len(),
        CHECKLIST_ITEMS,
        "the bench library has 30 answerable items"
    );
    let orders = (0..sizes.scale_orders.max(sizes.orders))
        .map(|n| order(&mut rng, n, &items))
        .collect();
    let png = signature_png(&mut rng, 5 * 1024);
    Workload {
        seed,
        relay_edits: edits(&mut rng, sizes.orders, sizes.edits, false, "relay"),
        device_edits: edits(&mut rng, sizes.orders, sizes.edits, true, "device"),
        completion: completion(&items, &png),
        sizes,
        orders,
    }
}

/// A signature-like grayscale PNG (a wavy stroke with pen noise) grown until it is at least
/// `target` bytes.
pub fn signature_png(rng: &mut StdRng, target: usize) -> Vec<u8> {
    let (w, h) = (480u32, 160u32);
    let mut img = image::GrayImage::from_pixel(w, h, image::Luma([255]));
    let mut strokes = 0;
    loop {
        strokes += 1;
        let phase: f64 = rng.random_range(0.0..std::f64::consts::TAU);
        let amp: f64 = rng.random_range(10.0..50.0);
        let freq: f64 = rng.random_range(0.01..0.08);
        for x in 10..w - 10 {
            let y = (h as f64 / 2.0 + amp * (x as f64 * freq + phase).sin()) as i64;
            for dy in 0..=1i64 {
                let yy = (y + dy + rng.random_range(0..=1)).clamp(0, h as i64 - 1) as u32;
                img.put_pixel(x, yy, image::Luma([0]));
            }
        }
        let mut png = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .expect("PNG encodes in memory");
        if png.len() >= target || strokes > 200 {
            return png;
        }
    }
}
