//! The signed record's canonical form and hash: golden vectors (same content → same hash, on every
//! run and platform) and the tamper matrix (each signed field changed after signing fails
//! verification naming exactly its section; unsigned fields and an untouched record pass).

use onsite_domain::edit::{self, EditContext, VisitEdit};
use onsite_domain::order::Order;
use onsite_domain::progress::ProgressKind;
use onsite_domain::record::{self, RECORD_VERSION, SignatureFacts, Verification};
use onsite_domain::reference::{Confirmation, ServiceType};
use onsite_domain::sla::SlaPolicy;
use onsite_domain::visit::{CheckResult, Outcome, StockSource, Visit};
use onsite_domain::{MINUTE, Millis, doc, seed, templates};
use sha2::{Digest, Sha256};

/// 2026-11-30 00:00 UTC.
const DAY: Millis = 1_795_996_800_000;

/// The record hash of [`signed`]. Changing it means every record signed so far fails to verify:
/// only ever change it together with [`RECORD_VERSION`].
const GOLDEN_HASH: &str = "5211f9aea760a47607df854e4f6283ca4a6ccfd4486e6991180f9a585e2a10de";

/// The canonical `order` section of [`signed`], byte for byte.
const GOLDEN_ORDER_SECTION: &str = r#"{"address":"上海市浦东新区世纪大道 100 号 1 单元 1201","appliance":{"brand":"Haier","category":"air-conditioner","model":"KFR-35GW/03","serial":"SN4200000000"},"customer_name":"张伟","order_no":"WO-00000","service_type":"Repair"}"#;

fn image_sha() -> String {
    hex::encode(Sha256::digest(b"normalised signature PNG bytes"))
}

/// The demo repair order worked and signed through `edit::apply`, with fixed ids and times.
fn signed() -> (Order, Visit) {
    let library = templates::builtin_library();
    let fees = seed::fee_schedule(DAY - seed::YEAR);
    let parts = seed::parts_catalogue();
    let profile = seed::technician("tech.wang", "王建国", "13900000009", "HX5-2026-000123", DAY);
    let created = DAY + 8 * 60 * MINUTE;
    let mut order = Order::create(seed::order(0, DAY), &SlaPolicy::default(), created).unwrap();
    order
        .assign("tr-1", &profile, "", "dispatcher.li", created)
        .unwrap();
    let mut visit = Visit::start(&order, "tech.wang", &library).unwrap();
    let mut now = DAY + 9 * 60 * MINUTE;
    let mut edits: Vec<VisitEdit> = Vec::new();
    let answer = |t: &str, i: &str, outcome: Outcome, note: &str| VisitEdit::Answer {
        template_id: t.into(),
        item_id: i.into(),
        outcome,
        note: note.into(),
    };
    for (id, kind) in [
        ("ev-1", ProgressKind::Accepted),
        ("ev-2", ProgressKind::EnRoute),
        ("ev-3", ProgressKind::Arrived),
        ("ev-4", ProgressKind::WorkStarted),
    ] {
        edits.push(VisitEdit::Progress {
            id: id.into(),
            kind,
        });
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
        edits.push(answer(h, item, Outcome::Done, ""));
    }
    edits.push(answer(h, "power.tested", Outcome::Pass, ""));
    edits.push(VisitEdit::AddHomeCheck {
        id: "hc-1".into(),
        appliance: "fridge".into(),
        result: CheckResult::Ok,
        note: "冰箱运行正常".into(),
    });
    let r = "repair";
    let reading = |value: f64, unit: &str| Outcome::Reading {
        value,
        unit: unit.into(),
    };
    edits.extend([
        answer(r, "repair.symptom", Outcome::Done, ""),
        answer(r, "repair.fault_photo", Outcome::Done, ""),
        VisitEdit::AttachPhoto {
            template_id: r.into(),
            item_id: "repair.fault_photo".into(),
            sha256: "ab".repeat(32),
        },
        answer(r, "repair.supply_voltage", reading(221.5, "V"), ""),
        answer(r, "repair.insulation", reading(550.0, "MΩ"), ""),
        answer(
            r,
            "repair.refrigerant_pressure",
            reading(0.35, "MPa"),
            "冷媒不足，已加注 R32",
        ),
        answer(r, "repair.part_replaced", Outcome::Done, ""),
        answer(
            r,
            "repair.run_test",
            Outcome::NotApplicable {
                reason: "customer declined a long run".into(),
            },
            "",
        ),
        VisitEdit::AddPart {
            id: "pt-1".into(),
            part_no: "AC-CAP-35UF".into(),
            qty: 1,
            faulty_serial: String::new(),
            replacement_serial: String::new(),
            source: StockSource::Personal,
        },
        VisitEdit::AddPart {
            id: "pt-2".into(),
            part_no: "AC-PCB-KFR35".into(),
            qty: 1,
            faulty_serial: "PCB-OLD-7781".into(),
            replacement_serial: "PCB-2026-55120".into(),
            source: StockSource::Warehouse,
        },
        VisitEdit::AddFee {
            id: "fee-1".into(),
            code: "visit".into(),
            qty: 1,
        },
        VisitEdit::AddFee {
            id: "fee-2".into(),
            code: "labour.repair.minor".into(),
            qty: 1,
        },
        VisitEdit::SetNotes {
            diagnosis: "启动电容失效".into(),
            work_performed: "更换电容与主板".into(),
        },
        VisitEdit::Progress {
            id: "ev-5".into(),
            kind: ProgressKind::WorkDone,
        },
    ]);
    for c in Confirmation::ALL {
        edits.push(VisitEdit::Confirm {
            confirmation: c,
            value: true,
        });
    }
    edits.push(VisitEdit::Rate {
        stars: 4,
        comment: "准时，专业".into(),
    });
    edits.push(VisitEdit::Sign {
        event_id: "ev-6".into(),
        signer_name: "张伟".into(),
        image_sha256: image_sha(),
    });
    for e in edits {
        now += MINUTE;
        let ctx = EditContext {
            order: &order,
            library: &library,
            fees: &fees,
            parts: &parts,
            profile: &profile,
            device_id: "dev-1",
            now,
        };
        edit::apply(&mut visit, e.clone(), &ctx).unwrap_or_else(|err| panic!("{e:?}: {err}"));
    }
    (order, visit)
}

#[test]
fn golden_record_hash_is_stable() {
    let (order, visit) = signed();
    let sig = visit.signature.as_ref().expect("signed");
    assert_eq!(RECORD_VERSION, "onsite-record/1");
    assert_eq!(
        sig.record_hash, GOLDEN_HASH,
        "the canonical form changed: records signed before no longer verify"
    );
    let sections = record::sections(&order, &visit, &SignatureFacts::from(sig));
    let mut order_json = String::new();
    record::canonical_json(&sections["order"], &mut order_json);
    assert_eq!(order_json, GOLDEN_ORDER_SECTION, "canonical order section");
    let mut checklists = String::new();
    record::canonical_json(&sections["checklists"], &mut checklists);
    for reading in [
        r#"{"type":"reading","unit":"V","value":221.5}"#,
        r#"{"type":"reading","unit":"MΩ","value":550.0}"#,
        r#"{"type":"reading","unit":"MPa","value":0.35}"#,
    ] {
        assert!(
            checklists.contains(reading),
            "readings are written as shortest round-trip decimals: {reading} in {checklists}"
        );
    }
    assert_eq!(
        sig.sections.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "checklists",
            "confirmations",
            "fees",
            "home_checks",
            "notes",
            "order",
            "parts",
            "progress",
            "rating",
            "signature",
            "technician"
        ],
        "every section is hashed"
    );
    assert_eq!(
        record::verify(&order, &visit),
        Verification::Valid {
            hash: GOLDEN_HASH.to_owned()
        }
    );
}

#[test]
fn same_content_gives_the_same_hash_however_it_was_built_or_stored() {
    let (order, visit) = signed();
    let (order2, visit2) = signed();
    let sig = visit.signature.as_ref().unwrap();
    assert_eq!(
        sig,
        visit2.signature.as_ref().unwrap(),
        "rebuilt: same hash"
    );
    let facts = SignatureFacts::from(sig);
    // List order of parts, fees, home checks and events does not matter.
    let mut shuffled = visit2.clone();
    shuffled.parts.reverse();
    shuffled.fees.reverse();
    shuffled.events.reverse();
    assert_eq!(
        record::hash(&order2, &shuffled, &facts).hash,
        sig.record_hash,
        "list order from a merge must not change the hash"
    );
    // Through Automerge: save, load, hydrate.
    let bytes = doc::create(&visit).unwrap().save();
    let loaded: Visit = doc::read(&doc::load(&bytes).unwrap()).unwrap();
    let order_bytes = doc::create(&order).unwrap().save();
    let loaded_order: Order = doc::read(&doc::load(&order_bytes).unwrap()).unwrap();
    assert_eq!(
        record::verify(&loaded_order, &loaded),
        Verification::Valid {
            hash: sig.record_hash.clone()
        },
        "the record verifies after a round trip through the CRDT"
    );
}

fn expect_modified(order: &Order, visit: &Visit, section: &str, what: &str) {
    match record::verify(order, visit) {
        Verification::ModifiedAfterSigning { sections, .. } => assert_eq!(
            sections,
            vec![section.to_owned()],
            "changing {what} must fail verification naming only '{section}'"
        ),
        other => panic!("changing {what} after signing must fail verification, got {other:?}"),
    }
}

type Tamper = Box<dyn Fn(&mut Order, &mut Visit)>;

fn tamper(f: impl Fn(&mut Order, &mut Visit) + 'static) -> Tamper {
    Box::new(f)
}

fn tamper_cases(visit: &Visit) -> Vec<(String, &'static str, Tamper)> {
    let mut cases: Vec<(String, &'static str, Tamper)> = vec![
        (
            "order number".into(),
            "order",
            tamper(|o, _| o.order_no.push('X')),
        ),
        (
            "customer name".into(),
            "order",
            tamper(|o, _| o.customer.name = "张三".into()),
        ),
        (
            "customer address".into(),
            "order",
            tamper(|o, _| o.customer.address.push_str(" 2 室")),
        ),
        (
            "appliance serial".into(),
            "order",
            tamper(|o, _| {
                let id = o.appliance_id.clone();
                o.appliances
                    .iter_mut()
                    .find(|a| a.id == id)
                    .unwrap()
                    .serial
                    .push('9');
            }),
        ),
        (
            "appliance model".into(),
            "order",
            tamper(|o, _| {
                let id = o.appliance_id.clone();
                o.appliances.iter_mut().find(|a| a.id == id).unwrap().model = "KFR-26GW".into();
            }),
        ),
        (
            "service type".into(),
            "order",
            tamper(|o, _| o.service_type = ServiceType::Maintenance),
        ),
        (
            "technician id".into(),
            "technician",
            tamper(|_, v| v.technician_id = "tech.li".into()),
        ),
        (
            "technician name".into(),
            "technician",
            tamper(|_, v| v.signature.as_mut().unwrap().technician_name = "李四".into()),
        ),
        (
            "certificate".into(),
            "technician",
            tamper(|_, v| v.signature.as_mut().unwrap().certificate_id = "HX5-FAKE".into()),
        ),
        (
            "checklist template version".into(),
            "checklists",
            tamper(|_, v| v.checklists.get_mut("repair").unwrap().version = 2),
        ),
        (
            "a photo of an answer".into(),
            "checklists",
            tamper(|_, v| {
                let a = v.checklists.get_mut("repair").unwrap();
                a.answers
                    .get_mut("repair.fault_photo")
                    .unwrap()
                    .photos
                    .clear();
            }),
        ),
        (
            "a replacement part serial".into(),
            "parts",
            tamper(|_, v| v.parts[1].replacement_serial = "PCB-FORGED".into()),
        ),
        (
            "a faulty part serial".into(),
            "parts",
            tamper(|_, v| v.parts[1].faulty_serial.clear()),
        ),
        (
            "a part's source".into(),
            "parts",
            tamper(|_, v| v.parts[0].source = StockSource::Warehouse),
        ),
        (
            "a fee line's quantity".into(),
            "fees",
            tamper(|_, v| v.fees[0].qty = 2),
        ),
        (
            "a fee line's label".into(),
            "fees",
            tamper(|_, v| v.fees[1].label_en.push('!')),
        ),
        (
            "a removed fee line".into(),
            "fees",
            tamper(|_, v| {
                v.fees.pop();
            }),
        ),
        (
            "the diagnosis".into(),
            "notes",
            tamper(|_, v| v.diagnosis.push('。')),
        ),
        (
            "the work performed".into(),
            "notes",
            tamper(|_, v| v.work_performed.clear()),
        ),
        (
            "the rating stars".into(),
            "rating",
            tamper(|_, v| v.rating.as_mut().unwrap().stars = 5),
        ),
        (
            "the rating comment".into(),
            "rating",
            tamper(|_, v| v.rating.as_mut().unwrap().comment = "很好".into()),
        ),
        (
            "the home check".into(),
            "home_checks",
            tamper(|_, v| v.home_checks[0].result = CheckResult::NeedsService),
        ),
        (
            "a progress event merged in from another device".into(),
            "progress",
            tamper(|_, v| {
                let mut e = v.events[2].clone();
                e.id = "ev-other".into();
                e.at_ms += 1;
                v.events.push(e);
            }),
        ),
        (
            "the signature image hash".into(),
            "signature",
            tamper(|_, v| {
                v.signature.as_mut().unwrap().image_sha256 =
                    hex::encode(Sha256::digest(b"another image"))
            }),
        ),
        (
            "the signer's name".into(),
            "signature",
            tamper(|_, v| v.signature.as_mut().unwrap().signer_name = "李娜".into()),
        ),
        (
            "the signing time".into(),
            "signature",
            tamper(|_, v| v.signature.as_mut().unwrap().signed_at_ms -= 1),
        ),
        (
            "the stored record hash".into(),
            "signature",
            tamper(|_, v| v.signature.as_mut().unwrap().record_hash = "0".repeat(64)),
        ),
        (
            "a stored section hash".into(),
            "parts",
            tamper(|_, v| {
                v.signature
                    .as_mut()
                    .unwrap()
                    .sections
                    .insert("parts".into(), "0".repeat(64));
            }),
        ),
    ];
    for (tid, inst) in &visit.checklists {
        for item in inst.answers.keys() {
            let (t, i) = (tid.clone(), item.clone());
            cases.push((
                format!("the note of {tid}/{item}"),
                "checklists",
                tamper(move |_, v| {
                    v.checklists
                        .get_mut(&t)
                        .unwrap()
                        .answers
                        .get_mut(&i)
                        .unwrap()
                        .note
                        .push('x')
                }),
            ));
            let (t, i) = (tid.clone(), item.clone());
            cases.push((
                format!("the outcome of {tid}/{item}"),
                "checklists",
                tamper(move |_, v| {
                    let a = v
                        .checklists
                        .get_mut(&t)
                        .unwrap()
                        .answers
                        .get_mut(&i)
                        .unwrap();
                    a.outcome = match &a.outcome {
                        Outcome::Done => Outcome::Fail,
                        Outcome::Pass => Outcome::Fail,
                        Outcome::Fail => Outcome::Pass,
                        Outcome::NotApplicable { .. } => Outcome::Done,
                        Outcome::Reading { value, unit } => Outcome::Reading {
                            value: value + 0.1,
                            unit: unit.clone(),
                        },
                    };
                }),
            ));
            let (t, i) = (tid.clone(), item.clone());
            cases.push((
                format!("the answer time of {tid}/{item}"),
                "checklists",
                tamper(move |_, v| {
                    v.checklists
                        .get_mut(&t)
                        .unwrap()
                        .answers
                        .get_mut(&i)
                        .unwrap()
                        .answered_at_ms += 1
                }),
            ));
        }
    }
    for key in visit.confirmations.keys() {
        let k = key.clone();
        cases.push((
            format!("confirmation {key}"),
            "confirmations",
            tamper(move |_, v| {
                let c = v.confirmations.get_mut(&k).unwrap();
                *c = !*c;
            }),
        ));
    }
    for (idx, e) in visit.events.iter().enumerate() {
        if matches!(e.kind, ProgressKind::Signed | ProgressKind::Reopened) {
            continue;
        }
        cases.push((
            format!("the time of progress event {:?}", e.kind),
            "progress",
            tamper(move |_, v| v.events[idx].at_ms -= 1),
        ));
    }
    cases
}

#[test]
fn tamper_matrix_every_signed_field_fails_naming_its_section() {
    let (order, visit) = signed();
    let cases = tamper_cases(&visit);
    assert!(cases.len() > 60, "the matrix covers every answer and field");
    for (what, section, tamper) in &cases {
        let (mut o, mut v) = (order.clone(), visit.clone());
        tamper(&mut o, &mut v);
        expect_modified(&o, &v, section, what);
    }
    assert!(
        record::verify(&order, &visit).is_valid(),
        "unchanged record passes"
    );
}

#[test]
fn unsigned_fields_may_change_without_breaking_the_signature() {
    let (mut order, mut visit) = signed();
    order.customer.phone = "13800009999".into();
    order.customer.notes = "new door code".into();
    order.problem.push_str(" (follow-up)");
    order.dispatcher_notes = autosurgeon::Text::from("回访完成");
    order.status_reason = "archived".into();
    let other = order
        .appliances
        .iter_mut()
        .find(|a| a.id != order.appliance_id)
        .unwrap();
    other.model = "BCD-999".into();
    visit
        .events
        .iter_mut()
        .for_each(|e| e.device_id = "dev-2".into());
    assert!(
        record::verify(&order, &visit).is_valid(),
        "fields outside the record (phone, notes, other appliances, device ids) are not signed"
    );
}

#[test]
fn a_tampered_replica_merged_in_fails_verification() {
    let (order, visit) = signed();
    let mut mine = doc::create(&visit).unwrap();
    let mut theirs = mine.fork();
    let mut forged: Visit = doc::read(&theirs).unwrap();
    forged.parts[1].replacement_serial = "PCB-FORGED".into();
    doc::write(&mut theirs, &forged).unwrap();
    mine.merge(&mut theirs).unwrap();
    let merged: Visit = doc::read(&mine).unwrap();
    expect_modified(
        &order,
        &merged,
        "parts",
        "a part serial merged from another replica",
    );
}
