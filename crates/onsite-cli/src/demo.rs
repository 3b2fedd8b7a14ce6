//! The document-level demo: everything runs through the domain rules, exactly as on a device.

use std::io::Write;

use anyhow::Context;
use chrono::{DateTime, Utc};
use onsite_domain::edit::{self, EditContext, VisitEdit};
use onsite_domain::order::Order;
use onsite_domain::progress::ProgressKind;
use onsite_domain::reference::{Confirmation, ItemKind};
use onsite_domain::sla::{self, SlaPolicy};
use onsite_domain::visit::{CheckResult, Outcome, StockSource, Visit};
use onsite_domain::{HOUR, MINUTE, Millis, completion, doc, record, seed, status, templates};
use sha2::{Digest, Sha256};

fn time(ms: Millis) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| ms.to_string())
}

fn money(cents: i64) -> String {
    format!("¥{}.{:02}", cents / 100, cents % 100)
}

/// Run the demo, writing the narrative to `out`.
pub fn run(lang: &str, out: &mut impl Write) -> anyhow::Result<()> {
    let day = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .context("midnight")?
        .and_utc()
        .timestamp_millis();
    let mut now = day + 8 * HOUR;
    let library = templates::builtin_library();
    let fees = seed::fee_schedule(day);
    let parts = seed::parts_catalogue();
    let tech = seed::technician(
        "tech.wang",
        "王师傅 Wang",
        "13900000001",
        "HC-2026-0001",
        now,
    );

    writeln!(out, "== Dispatcher creates and assigns the order")?;
    let mut order = Order::create(seed::order(0, day), &SlaPolicy::default(), now)?;
    order.assign("tr-1", &tech, "", "dispatcher.zhao", now)?;
    let order_doc = doc::create(&order)?;
    writeln!(
        out,
        "order {} for {} ({:?} tier), {:?}: {}",
        order.order_no, order.customer.name, order.customer.tier, order.service_type, order.problem
    )?;
    writeln!(
        out,
        "assigned to {} — arrive by {}, complete by {}",
        tech.name,
        time(order.sla.arrive_by_ms),
        time(order.sla.complete_by_ms)
    )?;
    writeln!(
        out,
        "preferences shown before the visit: {}",
        order.customer.preferences.join("; ")
    )?;

    writeln!(out, "\n== Technician works offline through the checklist")?;
    let mut visit = Visit::start(&order, &tech.technician_id, &library)?;
    let mut visit_doc = doc::create(&visit)?;
    let mut n = 0;
    let mut step = |visit: &mut Visit, e: VisitEdit, now: &mut Millis| -> anyhow::Result<()> {
        *now += 3 * MINUTE;
        let ctx = EditContext {
            order: &order,
            library: &library,
            fees: &fees,
            parts: &parts,
            profile: &tech,
            device_id: "demo-device",
            now: *now,
        };
        edit::apply(visit, e, &ctx)?;
        doc::write_at(&mut visit_doc, visit, *now)?;
        n += 1;
        Ok(())
    };
    let mut id = 0;
    let mut next_id = || {
        id += 1;
        format!("demo-{id}")
    };
    for kind in [
        ProgressKind::Accepted,
        ProgressKind::EnRoute,
        ProgressKind::Arrived,
        ProgressKind::WorkStarted,
    ] {
        step(
            &mut visit,
            VisitEdit::Progress {
                id: next_id(),
                kind,
            },
            &mut now,
        )?;
    }
    // A refused step shows the rule at work.
    let refused = step(
        &mut visit,
        VisitEdit::Progress {
            id: next_id(),
            kind: ProgressKind::Arrived,
        },
        &mut now,
    )
    .unwrap_err();
    writeln!(out, "refused as expected: {refused}")?;

    let h = templates::HAIER_12345;
    let answer = |t: &str, item: &str, outcome: Outcome, note: &str| VisitEdit::Answer {
        template_id: t.into(),
        item_id: item.into(),
        outcome,
        note: note.into(),
    };
    for item in [
        "cert.shown",
        "fees.published",
        "card.given",
        "shoe.covers",
        "mat.laid",
        "cloth.brought",
        "site.cleaned",
        "home.check",
    ] {
        step(&mut visit, answer(h, item, Outcome::Done, ""), &mut now)?;
    }
    step(
        &mut visit,
        VisitEdit::AddHomeCheck {
            id: next_id(),
            appliance: "Haier fridge BCD-470WDPG".into(),
            result: CheckResult::Ok,
            note: "door seal fine".into(),
        },
        &mut now,
    )?;
    step(
        &mut visit,
        answer(
            "repair",
            "repair.symptom",
            Outcome::Done,
            "outdoor unit silent, capacitor bulged",
        ),
        &mut now,
    )?;
    step(
        &mut visit,
        answer("repair", "repair.fault_photo", Outcome::Done, ""),
        &mut now,
    )?;
    let photo = hex::encode(Sha256::digest(b"demo photo of the bulged capacitor"));
    step(
        &mut visit,
        VisitEdit::AttachPhoto {
            template_id: "repair".into(),
            item_id: "repair.fault_photo".into(),
            sha256: photo,
        },
        &mut now,
    )?;
    let wrong_unit = step(
        &mut visit,
        answer(
            "repair",
            "repair.supply_voltage",
            Outcome::Reading {
                value: 0.22,
                unit: "kV".into(),
            },
            "",
        ),
        &mut now,
    )
    .unwrap_err();
    writeln!(out, "refused as expected: {wrong_unit}")?;
    step(
        &mut visit,
        answer(
            "repair",
            "repair.supply_voltage",
            Outcome::Reading {
                value: 223.0,
                unit: "V".into(),
            },
            "",
        ),
        &mut now,
    )?;
    step(
        &mut visit,
        answer(
            "repair",
            "repair.insulation",
            Outcome::Reading {
                value: 120.0,
                unit: "MΩ".into(),
            },
            "",
        ),
        &mut now,
    )?;
    step(
        &mut visit,
        VisitEdit::AddPart {
            id: next_id(),
            part_no: "AC-CAP-35UF".into(),
            qty: 1,
            faulty_serial: "CAP-OLD-7731".into(),
            replacement_serial: String::new(),
            source: StockSource::Personal,
        },
        &mut now,
    )?;
    step(
        &mut visit,
        answer("repair", "repair.part_replaced", Outcome::Done, ""),
        &mut now,
    )?;
    step(
        &mut visit,
        answer(
            "repair",
            "repair.run_test",
            Outcome::Pass,
            "cooling to 12 °C at outlet",
        ),
        &mut now,
    )?;
    step(
        &mut visit,
        answer(h, "power.tested", Outcome::Pass, ""),
        &mut now,
    )?;
    step(
        &mut visit,
        VisitEdit::AddFee {
            id: next_id(),
            code: "visit".into(),
            qty: 1,
        },
        &mut now,
    )?;
    step(
        &mut visit,
        VisitEdit::AddFee {
            id: next_id(),
            code: "labour.repair.minor".into(),
            qty: 1,
        },
        &mut now,
    )?;
    step(
        &mut visit,
        VisitEdit::SetNotes {
            diagnosis: "Run capacitor failed".into(),
            work_performed: "Replaced run capacitor, tested cooling".into(),
        },
        &mut now,
    )?;
    step(
        &mut visit,
        VisitEdit::Progress {
            id: next_id(),
            kind: ProgressKind::WorkDone,
        },
        &mut now,
    )?;

    let missing = completion::missing_for_signing(&visit, &library);
    writeln!(
        out,
        "before hand-over the app still lists: {}",
        completion::describe(&missing)
    )?;

    writeln!(out, "\n== Customer confirms, rates and signs on the device")?;
    for c in Confirmation::ALL {
        step(
            &mut visit,
            VisitEdit::Confirm {
                confirmation: c,
                value: true,
            },
            &mut now,
        )?;
    }
    step(
        &mut visit,
        VisitEdit::Rate {
            stars: 5,
            comment: "师傅很专业 / very professional".into(),
        },
        &mut now,
    )?;
    let signature_png = hex::encode(Sha256::digest(b"signature strokes"));
    step(
        &mut visit,
        VisitEdit::Sign {
            event_id: next_id(),
            signer_name: order.customer.name.clone(),
            image_sha256: signature_png,
        },
        &mut now,
    )?;
    let frozen = step(
        &mut visit,
        VisitEdit::Rate {
            stars: 1,
            comment: "edited later".into(),
        },
        &mut now,
    )
    .unwrap_err();
    writeln!(out, "after signing the record is frozen: {frozen}")?;

    writeln!(out, "\n== Service record ({lang})")?;
    let sig = visit.signature.as_ref().context("signed")?;
    writeln!(
        out,
        "{} · {} · {}",
        order.order_no, order.customer.name, order.customer.address
    )?;
    writeln!(
        out,
        "technician {} · certificate {}",
        sig.technician_name, sig.certificate_id
    )?;
    for inst in visit.checklists.values() {
        let t = library.get(&inst.template_id, inst.version)?;
        writeln!(out, "[{}]", t.title.get(lang))?;
        for item in &t.items {
            let state = match (&item.kind, inst.answers.get(&item.id)) {
                (ItemKind::CustomerConfirm { confirmation }, _) => {
                    if visit.confirmed(*confirmation) {
                        "confirmed by customer".to_owned()
                    } else {
                        "NOT confirmed".to_owned()
                    }
                }
                (ItemKind::SignedRecord, _) => "signed".to_owned(),
                (_, Some(a)) => match &a.outcome {
                    Outcome::Reading { value, unit } => format!("{value} {unit}"),
                    other => format!("{other:?}").to_lowercase(),
                },
                (_, None) => "—".to_owned(),
            };
            writeln!(out, "  {:<48} {}", item.label.get(lang), state)?;
        }
    }
    for p in &visit.parts {
        writeln!(
            out,
            "part {} {} ×{} faulty serial {}",
            p.part_no,
            if lang.starts_with("zh") {
                &p.name_zh_cn
            } else {
                &p.name_en
            },
            p.qty,
            p.faulty_serial
        )?;
    }
    for f in &visit.fees {
        writeln!(
            out,
            "fee  {:<40} {}",
            if lang.starts_with("zh") {
                &f.label_zh_cn
            } else {
                &f.label_en
            },
            money(f.total_cents())
        )?;
    }
    writeln!(
        out,
        "total {}",
        money(visit.fees_total_cents() + visit.parts_total_cents())
    )?;
    writeln!(
        out,
        "rating {}★ “{}”",
        visit.rating.as_ref().map_or(0, |r| r.stars),
        visit.rating.as_ref().map_or("", |r| r.comment.as_str())
    )?;
    writeln!(
        out,
        "signed by {} at {}",
        sig.signer_name,
        time(sig.signed_at_ms)
    )?;
    writeln!(out, "record hash {}", sig.record_hash)?;

    writeln!(out, "\n== What the dispatcher sees")?;
    let received: Visit = doc::read(&visit_doc)?;
    let order_back: Order = doc::read(&order_doc)?;
    let derived = status::derive(&order_back, [&received]);
    let report = sla::evaluate(
        order.created_at_ms,
        &order.sla,
        &received.events,
        &SlaPolicy::default(),
        now,
    );
    writeln!(
        out,
        "status {} · SLA {:?} · conflicts {}",
        derived.status.as_str(),
        report.badge,
        derived.conflicts.len()
    )?;
    writeln!(
        out,
        "verification: {:?}",
        record::verify(&order_back, &received)
    )?;
    writeln!(
        out,
        "edits: {n} · visit document {} bytes",
        visit_doc.save().len()
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_completes_a_job_and_the_record_verifies() {
        let mut out = Vec::new();
        super::run("en", &mut out).expect("demo runs");
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("status completed"), "{text}");
        assert!(text.contains("verification: Valid"), "{text}");
        assert!(
            text.contains("refused as expected"),
            "the demo shows rule refusals"
        );
        let mut zh = Vec::new();
        super::run("zh-CN", &mut zh).expect("demo runs in Chinese");
        assert!(String::from_utf8(zh).unwrap().contains("不喝用户的水"));
    }
}
