//! A fully signed demo visit built through the real edit path, and synthetic signature-pad PNGs.

#![allow(dead_code)]

use image::{ImageEncoder, Rgba, RgbaImage};
use onsite_domain::edit::{self, VisitEdit};
use onsite_domain::order::Order;
use onsite_domain::progress::ProgressKind;
use onsite_domain::reference::Confirmation;
use onsite_domain::sla::SlaPolicy;
use onsite_domain::visit::{CheckResult, Outcome, StockSource, Visit};
use onsite_domain::{MINUTE, Millis, seed, templates};
use onsite_testkit::Reference;

/// 2026-11-30 00:00 UTC.
pub const DAY: Millis = 1_795_996_800_000;
pub const RELAY: &str = "https://relay.onsite.example";
pub const COMPANY: &str = "海尔智家上海浦东服务中心 Onsite Demo Service Co.";

pub struct Fixture {
    pub order: Order,
    pub visit: Visit,
    /// Reference documents and device of the edits (`refs.context` for further edits).
    pub refs: Reference,
    pub signature_png: Vec<u8>,
}

/// A pad export: transparent RGBA `w`×`h` with a dark cursive stroke across the middle part.
pub fn pad_png(w: u32, h: u32) -> Vec<u8> {
    let mut img = RgbaImage::from_pixel(w, h, Rgba([255, 255, 255, 0]));
    let (x0, x1) = (w / 6, w * 5 / 6);
    let mid = h as f32 / 2.0;
    let amp = h as f32 / 5.0;
    for x in x0..x1 {
        let t = (x - x0) as f32 / (x1 - x0) as f32;
        let y = mid + amp * (t * 12.0).sin() * (1.0 - t * 0.5) + amp * 0.6 * (t * 3.0).cos();
        for dy in -2i32..=2 {
            for dx in -1i32..=1 {
                let (px, py) = (x as i32 + dx, y as i32 + dy);
                if px >= 0 && py >= 0 && (px as u32) < w && (py as u32) < h {
                    img.put_pixel(px as u32, py as u32, Rgba([20, 20, 60, 255]));
                }
            }
        }
    }
    encode_rgba(&img)
}

pub fn encode_rgba(img: &RgbaImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgba8,
        )
        .expect("encode test PNG");
    out
}

/// The repair order for 张伟, worked and signed by 王师傅 through `edit::apply`.
pub fn signed() -> Fixture {
    let library = templates::builtin_library();
    let fees = seed::fee_schedule(DAY - seed::YEAR);
    let parts = seed::parts_catalogue();
    let profile = seed::technician("tech.wang", "王建国", "13900000009", "HX5-2026-000123", DAY);
    let mut order = Order::create(
        seed::order(0, DAY),
        &SlaPolicy::default(),
        DAY + 8 * 60 * MINUTE,
    )
    .expect("demo order is valid");
    order
        .assign("tr-1", &profile, "", "dispatcher.li", DAY + 8 * 60 * MINUTE)
        .expect("qualified technician");
    let mut visit = Visit::start(&order, &profile.technician_id, &library).expect("templates");
    let sig = onsite_record::normalise_signature(&pad_png(900, 300)).expect("pad signature");
    let mut now = DAY + 9 * 60 * MINUTE;
    let refs = Reference {
        library,
        fees,
        parts,
        profile,
        device_id: "dev-tablet-1".into(),
    };
    let mut step = |visit: &mut Visit, e: VisitEdit| {
        now += MINUTE;
        edit::apply(visit, e.clone(), &refs.context(&order, now))
            .unwrap_or_else(|err| panic!("{e:?}: {err}"));
    };
    let progress = |id: &str, kind| VisitEdit::Progress {
        id: id.into(),
        kind,
    };
    let answer = |t: &str, i: &str, outcome: Outcome, note: &str| VisitEdit::Answer {
        template_id: t.into(),
        item_id: i.into(),
        outcome,
        note: note.into(),
    };
    let reading = |v: f64, u: &str| Outcome::Reading {
        value: v,
        unit: u.into(),
    };
    for (id, k) in [
        ("ev-1", ProgressKind::Accepted),
        ("ev-2", ProgressKind::EnRoute),
        ("ev-3", ProgressKind::Arrived),
        ("ev-4", ProgressKind::WorkStarted),
    ] {
        step(&mut visit, progress(id, k));
    }
    let h = templates::HAIER_12345;
    for item in [
        "cert.shown",
        "fees.published",
        "site.cleaned",
        "card.given",
        "shoe.covers",
        "mat.laid",
        "cloth.brought",
        "home.check",
    ] {
        step(&mut visit, answer(h, item, Outcome::Done, ""));
    }
    step(&mut visit, answer(h, "power.tested", Outcome::Pass, ""));
    step(
        &mut visit,
        VisitEdit::AddHomeCheck {
            id: "hc-1".into(),
            appliance: "fridge".into(),
            result: CheckResult::Ok,
            note: "冰箱运行正常 / fridge runs fine".into(),
        },
    );
    let r = "repair";
    step(&mut visit, answer(r, "repair.symptom", Outcome::Done, ""));
    step(
        &mut visit,
        answer(r, "repair.fault_photo", Outcome::Done, ""),
    );
    step(
        &mut visit,
        VisitEdit::AttachPhoto {
            template_id: r.into(),
            item_id: "repair.fault_photo".into(),
            sha256: "ab".repeat(32),
        },
    );
    step(
        &mut visit,
        answer(r, "repair.supply_voltage", reading(221.5, "V"), ""),
    );
    step(
        &mut visit,
        answer(r, "repair.insulation", reading(550.0, "MΩ"), ""),
    );
    step(
        &mut visit,
        answer(
            r,
            "repair.refrigerant_pressure",
            reading(0.35, "MPa"),
            "冷媒不足，已加注 R32",
        ),
    );
    step(
        &mut visit,
        answer(r, "repair.part_replaced", Outcome::Done, ""),
    );
    step(&mut visit, answer(r, "repair.run_test", Outcome::Pass, ""));
    step(
        &mut visit,
        VisitEdit::AddPart {
            id: "pt-1".into(),
            part_no: "AC-CAP-35UF".into(),
            qty: 1,
            faulty_serial: String::new(),
            replacement_serial: String::new(),
            source: StockSource::Personal,
        },
    );
    step(
        &mut visit,
        VisitEdit::AddPart {
            id: "pt-2".into(),
            part_no: "AC-PCB-KFR35".into(),
            qty: 1,
            faulty_serial: "PCB-OLD-7781".into(),
            replacement_serial: "PCB-2026-55120".into(),
            source: StockSource::Warehouse,
        },
    );
    for (id, code) in [
        ("fee-1", "visit"),
        ("fee-2", "labour.repair.minor"),
        ("fee-3", "refrigerant.r32"),
    ] {
        step(
            &mut visit,
            VisitEdit::AddFee {
                id: id.into(),
                code: code.into(),
                qty: 1,
            },
        );
    }
    step(
        &mut visit,
        VisitEdit::SetNotes {
            diagnosis: "室外机启动电容失效，主板继电器烧蚀".into(),
            work_performed: "更换启动电容与室内机主板，补充冷媒，试机制冷正常".into(),
        },
    );
    step(&mut visit, progress("ev-5", ProgressKind::WorkDone));
    for c in Confirmation::ALL {
        step(
            &mut visit,
            VisitEdit::Confirm {
                confirmation: c,
                value: true,
            },
        );
    }
    step(
        &mut visit,
        VisitEdit::Rate {
            stars: 5,
            comment: "师傅很专业，准时上门，讲解清楚。".into(),
        },
    );
    step(
        &mut visit,
        VisitEdit::Sign {
            event_id: "ev-6".into(),
            signer_name: "张伟".into(),
            image_sha256: sig.sha256.clone(),
        },
    );
    Fixture {
        order,
        visit,
        refs,
        signature_png: sig.png,
    }
}

impl Fixture {
    pub fn input(&self, lang: onsite_record::Lang) -> onsite_record::RecordInput<'_> {
        onsite_record::RecordInput {
            order: &self.order,
            visit: &self.visit,
            library: &self.refs.library,
            signature_png: &self.signature_png,
            company: COMPANY,
            relay_base_url: RELAY,
            lang,
            utc_offset_minutes: 480,
        }
    }
}
