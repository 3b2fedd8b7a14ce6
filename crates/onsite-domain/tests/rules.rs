//! Rule tests: every edit through `edit::apply`, completion requirements, the frozen record,
//! conflicts and status derivation — all through the public API, as the store and relay use it.

use onsite_domain::completion::{self, AnsweredBy, ItemState, Missing};
use onsite_domain::edit::{self, VisitEdit};
use onsite_domain::order::{DispatchStatus, Order};
use onsite_domain::progress::ProgressKind;
use onsite_domain::record::{self, Verification};
use onsite_domain::reference::TechnicianProfile;
use onsite_domain::sla::SlaPolicy;
use onsite_domain::status::{self, Conflict, EffectiveStatus};
use onsite_domain::visit::{Outcome, StockSource, Visit};
use onsite_domain::{DomainError, HOUR, MINUTE, Millis, seed};
use onsite_testkit::Reference;

const DAY: Millis = 1_764_460_800_000; // 2025-11-30T00:00Z
const SIG: &str = "5d41402abc4b2a76b9719d911017c592aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

struct World {
    order: Order,
    refs: Reference,
    other: TechnicianProfile,
    now: Millis,
    next_id: u32,
}

impl World {
    fn new() -> World {
        let now = DAY + 8 * HOUR;
        let tech = seed::technician("tech.wang", "王师傅", "13900000001", "HC-2026-0001", now);
        let other = seed::technician("tech.li", "李师傅", "13900000002", "HC-2026-0002", now);
        // order 0 is a repair job
        let mut order = Order::create(seed::order(0, DAY), &SlaPolicy::default(), now).unwrap();
        order.assign("t1", &tech, "", "disp", now).unwrap();
        World {
            order,
            refs: Reference::demo(tech)
                .with_fees(seed::fee_schedule(DAY))
                .with_device("dev-1"),
            other,
            now,
            next_id: 0,
        }
    }

    fn visit(&self) -> Visit {
        Visit::start(
            &self.order,
            &self.refs.profile.technician_id,
            &self.refs.library,
        )
        .unwrap()
    }

    fn id(&mut self) -> String {
        self.next_id += 1;
        format!("id-{}", self.next_id)
    }

    fn apply(&mut self, v: &mut Visit, e: VisitEdit) -> Result<(), DomainError> {
        self.now += MINUTE;
        edit::apply(v, e, &self.refs.context(&self.order, self.now))
    }

    fn progress(&mut self, v: &mut Visit, kind: ProgressKind) -> Result<(), DomainError> {
        let id = self.id();
        self.apply(v, VisitEdit::Progress { id, kind })
    }

    fn answer(
        &mut self,
        v: &mut Visit,
        t: &str,
        item: &str,
        outcome: Outcome,
        note: &str,
    ) -> Result<(), DomainError> {
        self.apply(
            v,
            VisitEdit::Answer {
                template_id: t.into(),
                item_id: item.into(),
                outcome,
                note: note.into(),
            },
        )
    }

    /// A visit with everything done but the signature.
    fn ready_visit(&mut self) -> Visit {
        let mut v = self.visit();
        for e in seed::job_edits(self.order.service_type, "job") {
            self.apply(&mut v, e.clone())
                .unwrap_or_else(|err| panic!("the demo job edit {e:?} applies: {err}"));
        }
        v
    }

    fn sign(&mut self, v: &mut Visit) -> Result<(), DomainError> {
        let event_id = self.id();
        self.apply(
            v,
            VisitEdit::Sign {
                event_id,
                signer_name: "张伟".into(),
                image_sha256: SIG.into(),
            },
        )
    }
}

#[test]
fn a_complete_repair_job_signs_and_verifies() {
    let mut w = World::new();
    let mut v = w.ready_visit();
    assert_eq!(
        completion::missing_for_signing(&v, &w.refs.library),
        vec![],
        "everything is done"
    );
    w.sign(&mut v).unwrap();
    assert!(
        completion::missing_for_completion(&v, &w.refs.library).is_empty(),
        "signed visit is complete"
    );
    assert!(
        record::verify(&w.order, &v).is_valid(),
        "untouched record verifies"
    );
    let price = |code: &str| {
        w.refs
            .fees
            .items
            .iter()
            .find(|f| f.code == code)
            .map(|f| f.unit_price_cents)
            .unwrap_or_else(|| panic!("{code} is on the published schedule"))
    };
    assert_eq!(
        v.fees_total_cents(),
        price("visit") + price("labour.repair.minor"),
        "the fee lines picked, at the published prices"
    );
    let d = status::derive(&w.order, [&v]);
    assert_eq!(d.status, EffectiveStatus::Completed);
    assert!(d.conflicts.is_empty(), "no conflicts: {:?}", d.conflicts);
}

#[test]
fn signing_is_refused_with_the_precise_list_of_what_is_missing() {
    let mut w = World::new();
    let mut v = w.visit();
    w.progress(&mut v, ProgressKind::Arrived).unwrap();
    let err = w.sign(&mut v).unwrap_err();
    let DomainError::Incomplete(missing) = err else {
        panic!("expected Incomplete, got {err:?}")
    };
    assert!(missing.contains(&Missing::WorkNotDone));
    assert!(missing.contains(&Missing::ItemUnanswered {
        template_id: "haier-12345".into(),
        item_id: "cert.shown".into()
    }));
    assert!(missing.contains(&Missing::ItemUnanswered {
        template_id: "repair".into(),
        item_id: "repair.supply_voltage".into()
    }));
    assert!(missing.contains(&Missing::ConfirmationMissing {
        item_id: "no.gift".into()
    }));
    assert!(missing.contains(&Missing::RatingMissing));
    assert!(!missing.iter().any(|m| matches!(m, Missing::ItemUnanswered { item_id, .. } if item_id == "repair.refrigerant_pressure")),
        "optional items are never listed as missing");
    assert!(
        !missing.iter().any(
            |m| matches!(m, Missing::ItemUnanswered { item_id, .. } if item_id == "record.signed")
        ),
        "record.signed is satisfied by signing itself"
    );
    assert!(v.signature.is_none(), "a refused signature writes nothing");
}

#[test]
fn each_single_missing_requirement_blocks_signing() {
    // Remove one requirement at a time from a ready visit.
    type Breaker = Box<dyn Fn(&mut Visit)>;
    let cases: Vec<(&str, Breaker, Missing)> = vec![
        (
            "photo",
            Box::new(|v: &mut Visit| {
                v.checklists
                    .get_mut("repair")
                    .unwrap()
                    .answers
                    .get_mut("repair.fault_photo")
                    .unwrap()
                    .photos
                    .clear()
            }),
            Missing::PhotoMissing {
                template_id: "repair".into(),
                item_id: "repair.fault_photo".into(),
            },
        ),
        (
            "home check",
            Box::new(|v: &mut Visit| v.home_checks.clear()),
            Missing::HomeCheckMissing,
        ),
        (
            "confirmation",
            Box::new(|v: &mut Visit| {
                v.confirmations.insert("usage.explained".into(), false);
            }),
            Missing::ConfirmationMissing {
                item_id: "usage.explained".into(),
            },
        ),
        (
            "rating",
            Box::new(|v: &mut Visit| v.rating = None),
            Missing::RatingMissing,
        ),
        (
            "answer",
            Box::new(|v: &mut Visit| {
                v.checklists
                    .get_mut("haier-12345")
                    .unwrap()
                    .answers
                    .remove("card.given");
            }),
            Missing::ItemUnanswered {
                template_id: "haier-12345".into(),
                item_id: "card.given".into(),
            },
        ),
        (
            "reading note",
            Box::new(|v: &mut Visit| {
                let a = v
                    .checklists
                    .get_mut("repair")
                    .unwrap()
                    .answers
                    .get_mut("repair.supply_voltage")
                    .unwrap();
                a.outcome = Outcome::Reading {
                    value: 250.0,
                    unit: "V".into(),
                };
                a.note.clear();
            }),
            Missing::ReadingOutOfRange {
                template_id: "repair".into(),
                item_id: "repair.supply_voltage".into(),
            },
        ),
        (
            "wrong unit merged in",
            Box::new(|v: &mut Visit| {
                v.checklists
                    .get_mut("repair")
                    .unwrap()
                    .answers
                    .get_mut("repair.supply_voltage")
                    .unwrap()
                    .outcome = Outcome::Reading {
                    value: 0.22,
                    unit: "kV".into(),
                };
            }),
            Missing::ItemInvalid {
                template_id: "repair".into(),
                item_id: "repair.supply_voltage".into(),
            },
        ),
    ];
    for (name, break_it, expected) in cases {
        let mut w = World::new();
        let mut v = w.ready_visit();
        break_it(&mut v);
        let missing = completion::missing_for_signing(&v, &w.refs.library);
        assert_eq!(
            missing,
            vec![expected],
            "case '{name}' must block signing with exactly that reason"
        );
    }
}

/// The state the domain gives `item` of checklist `template`.
fn state_of(v: &Visit, w: &World, template: &str, item: &str) -> (AnsweredBy, ItemState) {
    let progress = completion::checklist_progress(v, &w.refs.library);
    let c = progress
        .iter()
        .find(|c| c.template_id == template)
        .unwrap_or_else(|| panic!("checklist {template} is listed"));
    let p = c
        .items
        .iter()
        .find(|p| p.item_id == item)
        .unwrap_or_else(|| panic!("item {item} is listed"));
    (p.by, p.state)
}

fn counts(v: &Visit, w: &World, template: &str) -> (u32, u32) {
    let progress = completion::checklist_progress(v, &w.refs.library);
    let c = progress.iter().find(|c| c.template_id == template).unwrap();
    (c.required_done, c.required_total)
}

#[test]
fn item_states_follow_the_completion_rules_for_each_kind() {
    use AnsweredBy::*;
    use ItemState::*;
    let mut w = World::new();
    let mut v = w.visit();
    let fresh = |v: &Visit, w: &World, t: &str, i: &str| state_of(v, w, t, i);
    assert_eq!(
        fresh(&v, &w, "haier-12345", "card.given"),
        (Technician, Missing),
        "required tick unanswered blocks"
    );
    assert_eq!(
        fresh(&v, &w, "repair", "repair.refrigerant_pressure"),
        (Technician, Open),
        "an optional reading blocks nothing"
    );
    assert_eq!(
        fresh(&v, &w, "haier-12345", "no.water"),
        (Customer, Missing),
        "required confirmation not given yet"
    );
    assert_eq!(
        fresh(&v, &w, "haier-12345", "record.signed"),
        (Signature, Missing),
        "the signature item waits for the signature"
    );
    assert_eq!(
        counts(&v, &w, "repair"),
        (0, 6),
        "repair has six required technician items"
    );
    assert_eq!(
        counts(&v, &w, "haier-12345"),
        (0, 9),
        "fifteen items less the five customer confirmations and the signature"
    );

    w.answer(&mut v, "haier-12345", "card.given", Outcome::Done, "")
        .unwrap();
    assert_eq!(
        state_of(&v, &w, "haier-12345", "card.given"),
        (Technician, Done),
        "a tick once answered"
    );
    w.answer(
        &mut v,
        "repair",
        "repair.part_replaced",
        Outcome::NotApplicable {
            reason: "logged under parts".into(),
        },
        "",
    )
    .unwrap();
    assert_eq!(
        state_of(&v, &w, "repair", "repair.part_replaced"),
        (Technician, Done),
        "not applicable with a reason counts as answered"
    );
    w.answer(
        &mut v,
        "repair",
        "repair.supply_voltage",
        Outcome::Reading {
            value: 220.0,
            unit: "V".into(),
        },
        "",
    )
    .unwrap();
    assert_eq!(
        state_of(&v, &w, "repair", "repair.supply_voltage"),
        (Technician, Done),
        "a reading in range"
    );
    w.answer(&mut v, "repair", "repair.run_test", Outcome::Fail, "")
        .unwrap();
    assert_eq!(
        state_of(&v, &w, "repair", "repair.run_test"),
        (Technician, Done),
        "pass/fail answered either way"
    );
    w.answer(&mut v, "repair", "repair.fault_photo", Outcome::Done, "")
        .unwrap();
    assert_eq!(
        state_of(&v, &w, "repair", "repair.fault_photo"),
        (Technician, Missing),
        "answered but the required photo is missing"
    );
    w.answer(&mut v, "haier-12345", "home.check", Outcome::Done, "")
        .unwrap();
    assert_eq!(
        state_of(&v, &w, "haier-12345", "home.check"),
        (Technician, Missing),
        "home check done but no appliance listed"
    );
    assert_eq!(
        counts(&v, &w, "repair"),
        (3, 6),
        "part_replaced, supply_voltage and run_test are done; the photo item is not"
    );
    w.apply(
        &mut v,
        VisitEdit::Confirm {
            confirmation: onsite_domain::reference::Confirmation::NoWater,
            value: true,
        },
    )
    .unwrap();
    assert_eq!(
        state_of(&v, &w, "haier-12345", "no.water"),
        (Customer, Done),
        "the customer's confirmation satisfies it"
    );
}

#[test]
fn a_signed_visit_has_every_item_done() {
    let mut w = World::new();
    let mut v = w.ready_visit();
    assert_eq!(
        state_of(&v, &w, "haier-12345", "record.signed"),
        (AnsweredBy::Signature, ItemState::Missing),
        "ready to sign, but the signature item still waits"
    );
    w.sign(&mut v).unwrap();
    for c in completion::checklist_progress(&v, &w.refs.library) {
        assert_eq!(
            c.required_done, c.required_total,
            "{} complete once signed",
            c.template_id
        );
        for p in &c.items {
            assert_ne!(
                p.state,
                ItemState::Missing,
                "{} blocks nothing once signed",
                p.item_id
            );
        }
    }
    assert_eq!(
        state_of(&v, &w, "haier-12345", "record.signed").1,
        ItemState::Done,
        "the signature satisfies the signed-record item"
    );
}

#[test]
fn unknown_template_version_is_a_typed_error_and_listed_as_missing() {
    let mut w = World::new();
    let mut v = w.visit();
    v.checklists.get_mut("repair").unwrap().version = 9;
    let err = w
        .answer(&mut v, "repair", "repair.symptom", Outcome::Done, "")
        .unwrap_err();
    assert_eq!(err.code(), "checklist.unknown_template");
    assert!(
        completion::missing_for_signing(&v, &w.refs.library).contains(&Missing::TemplateMissing {
            template_id: "repair".into(),
            version: 9
        })
    );
}

#[test]
fn answers_are_validated_against_the_template() {
    let mut w = World::new();
    let mut v = w.visit();
    let before = v.clone();
    let cases = [
        (
            "repair",
            "repair.supply_voltage",
            Outcome::Reading {
                value: 220.0,
                unit: "kV".into(),
            },
            "",
            "checklist.wrong_unit",
        ),
        (
            "repair",
            "repair.supply_voltage",
            Outcome::Reading {
                value: f64::NAN,
                unit: "V".into(),
            },
            "",
            "checklist.reading_not_a_number",
        ),
        (
            "repair",
            "repair.supply_voltage",
            Outcome::Reading {
                value: 260.0,
                unit: "V".into(),
            },
            "",
            "checklist.out_of_range_needs_note",
        ),
        (
            "repair",
            "repair.supply_voltage",
            Outcome::Pass,
            "",
            "checklist.wrong_answer_kind",
        ),
        (
            "repair",
            "repair.run_test",
            Outcome::Done,
            "",
            "checklist.wrong_answer_kind",
        ),
        (
            "haier-12345",
            "no.gift",
            Outcome::Done,
            "",
            "checklist.wrong_answer_kind",
        ),
        (
            "haier-12345",
            "card.given",
            Outcome::NotApplicable {
                reason: "  ".into(),
            },
            "",
            "checklist.reason_required",
        ),
        (
            "haier-12345",
            "no.such",
            Outcome::Done,
            "",
            "checklist.unknown_item",
        ),
        (
            "installation",
            "inst.earth",
            Outcome::Done,
            "",
            "checklist.not_in_visit",
        ),
    ];
    for (t, item, outcome, note, code) in cases {
        let err = w
            .answer(&mut v, t, item, outcome.clone(), note)
            .unwrap_err();
        assert_eq!(err.code(), code, "{t}/{item} {outcome:?}");
        assert_eq!(v, before, "a refused answer must not change the visit");
    }
    // Out of range with a note is accepted and flagged by its note.
    w.answer(
        &mut v,
        "repair",
        "repair.supply_voltage",
        Outcome::Reading {
            value: 190.0,
            unit: "V".into(),
        },
        "低压：小区电网",
    )
    .unwrap();
    w.answer(
        &mut v,
        "haier-12345",
        "home.check",
        Outcome::NotApplicable {
            reason: "无其他家电".into(),
        },
        "",
    )
    .unwrap();
}

#[test]
fn parts_fees_and_ratings_are_validated() {
    let mut w = World::new();
    let mut v = w.visit();
    let bad = [
        (
            VisitEdit::AddPart {
                id: "p".into(),
                part_no: "NOPE".into(),
                qty: 1,
                faulty_serial: String::new(),
                replacement_serial: String::new(),
                source: StockSource::Personal,
            },
            "parts.unknown_part",
        ),
        (
            VisitEdit::AddPart {
                id: "p".into(),
                part_no: "AC-CAP-35UF".into(),
                qty: 0,
                faulty_serial: String::new(),
                replacement_serial: String::new(),
                source: StockSource::Personal,
            },
            "input.bad_quantity",
        ),
        (
            VisitEdit::AddPart {
                id: "p".into(),
                part_no: "AC-PCB-KFR35".into(),
                qty: 1,
                faulty_serial: "X".into(),
                replacement_serial: String::new(),
                source: StockSource::Warehouse,
            },
            "input.empty",
        ),
        (
            VisitEdit::AddFee {
                id: "f".into(),
                code: "free-lunch".into(),
                qty: 1,
            },
            "fees.unknown_fee",
        ),
        (
            VisitEdit::Rate {
                stars: 6,
                comment: String::new(),
            },
            "rating.out_of_range",
        ),
        (
            VisitEdit::Rate {
                stars: 0,
                comment: String::new(),
            },
            "rating.out_of_range",
        ),
        (
            VisitEdit::RemovePart { id: "nope".into() },
            "input.no_such_entry",
        ),
        (
            VisitEdit::AttachPhoto {
                template_id: "repair".into(),
                item_id: "repair.fault_photo".into(),
                sha256: "xyz".into(),
            },
            "attachment.bad_ref",
        ),
    ];
    for (e, code) in bad {
        assert_eq!(
            w.apply(&mut v, e.clone()).unwrap_err().code(),
            code,
            "{e:?}"
        );
    }
    w.apply(
        &mut v,
        VisitEdit::AddFee {
            id: "f1".into(),
            code: "visit".into(),
            qty: 1,
        },
    )
    .unwrap();
    assert_eq!(
        w.apply(
            &mut v,
            VisitEdit::AddFee {
                id: "f1".into(),
                code: "visit".into(),
                qty: 1
            }
        )
        .unwrap_err()
        .code(),
        "input.duplicate_id"
    );
    assert_eq!(
        v.fees[0].unit_price_cents, 3000,
        "fee price is copied from the published schedule"
    );
}

#[test]
fn a_signed_record_is_frozen_until_deliberately_reopened() {
    let mut w = World::new();
    let mut v = w.ready_visit();
    w.sign(&mut v).unwrap();
    let signed = v.clone();
    let err = w
        .apply(
            &mut v,
            VisitEdit::Rate {
                stars: 1,
                comment: "changed my mind".into(),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "record.frozen");
    assert_eq!(v, signed);
    // Reopen keeps the old signature in history; signing again creates a new one.
    w.apply(
        &mut v,
        VisitEdit::Reopen {
            event_id: "re".into(),
            reason: "customer asked to correct the comment".into(),
        },
    )
    .unwrap();
    assert!(v.signature.is_none());
    assert_eq!(v.signature_history.len(), 1);
    assert!(v.signature_history[0].reopened_at_ms.is_some());
    w.apply(
        &mut v,
        VisitEdit::Rate {
            stars: 4,
            comment: "ok".into(),
        },
    )
    .unwrap();
    w.sign(&mut v).unwrap();
    let new_hash = &v.signature.as_ref().unwrap().record_hash;
    assert_ne!(
        new_hash, &v.signature_history[0].record_hash,
        "new content, new hash"
    );
    assert!(record::verify(&w.order, &v).is_valid());
}

#[test]
fn changes_after_signing_are_detected_and_name_the_section() {
    let mut w = World::new();
    let mut v = w.ready_visit();
    w.sign(&mut v).unwrap();
    // A change merged in from elsewhere, bypassing the edit rules.
    let mut tampered = v.clone();
    tampered.parts[0].faulty_serial = "OTHER".into();
    match record::verify(&w.order, &tampered) {
        Verification::ModifiedAfterSigning { sections, .. } => {
            assert_eq!(sections, vec!["parts".to_string()])
        }
        other => panic!("tampering must be detected, got {other:?}"),
    }
    let mut order = w.order.clone();
    order.customer.address = "somewhere else".into();
    assert!(
        !record::verify(&order, &v).is_valid(),
        "a signed order field changed by the dispatcher is detected too"
    );
    let mut unsigned_change = w.order.clone();
    unsigned_change.customer.notes = "gate code changed".into();
    assert!(
        record::verify(&unsigned_change, &v).is_valid(),
        "fields outside the record do not break it"
    );
    let d = status::derive(&w.order, [&tampered]);
    assert!(
        d.conflicts
            .iter()
            .any(|c| c.code() == "modified_after_signing")
    );
}

#[test]
fn progress_is_refused_on_cancelled_or_held_orders_and_for_non_assignees() {
    let mut w = World::new();
    let mut v = w.visit();
    w.order
        .set_status(DispatchStatus::OnHold, "customer travelling", w.now)
        .unwrap();
    assert_eq!(
        w.progress(&mut v, ProgressKind::EnRoute)
            .unwrap_err()
            .code(),
        "order.on_hold"
    );
    w.order
        .set_status(DispatchStatus::Cancelled, "customer cancelled", w.now)
        .unwrap();
    assert_eq!(
        w.progress(&mut v, ProgressKind::EnRoute)
            .unwrap_err()
            .code(),
        "order.cancelled"
    );
    let mut w = World::new();
    let mut v = w.visit();
    let other = w.other.clone();
    w.order
        .assign("t2", &other, "closer to site", "disp", w.now)
        .unwrap();
    assert_eq!(
        w.progress(&mut v, ProgressKind::EnRoute)
            .unwrap_err()
            .code(),
        "order.not_assignee"
    );
    assert_eq!(w.order.transfers.len(), 2);
    assert_eq!(w.order.transfers[1].from.as_deref(), Some("tech.wang"));
}

#[test]
fn assignment_rules() {
    let mut w = World::new();
    let tech = w.refs.profile.clone();
    assert_eq!(
        w.order
            .assign("t9", &tech, "", "d", w.now)
            .unwrap_err()
            .code(),
        "order.already_assigned"
    );
    let other = w.other.clone();
    assert_eq!(
        w.order
            .assign("t9", &other, " ", "d", w.now)
            .unwrap_err()
            .code(),
        "input.empty",
        "transfer needs a reason"
    );
    let mut expired = w.other.clone();
    expired.certificate_expiry_ms = w.now - 1;
    assert_eq!(
        w.order
            .assign("t9", &expired, "x", "d", w.now)
            .unwrap_err()
            .code(),
        "order.not_qualified"
    );
    assert_eq!(
        w.order
            .set_status(DispatchStatus::Cancelled, "", w.now)
            .unwrap_err()
            .code(),
        "input.empty"
    );
}

#[test]
fn conflicts_are_derived_never_silently_resolved() {
    // Cancelled by dispatcher but completed by technician.
    let mut w = World::new();
    let mut v = w.ready_visit();
    w.sign(&mut v).unwrap();
    let mut order = w.order.clone();
    order
        .set_status(DispatchStatus::Cancelled, "duplicate order", w.now)
        .unwrap();
    let d = status::derive(&order, [&v]);
    assert_eq!(
        d.status,
        EffectiveStatus::Completed,
        "the work was done and signed"
    );
    assert_eq!(
        d.conflicts,
        vec![Conflict::CancelledButCompleted {
            technician_id: "tech.wang".into()
        }]
    );

    // Reassigned while the old technician was on site.
    let mut w = World::new();
    let mut v = w.visit();
    w.progress(&mut v, ProgressKind::Arrived).unwrap();
    let other = w.other.clone();
    w.order
        .assign("t2", &other, "rebalanced", "disp", w.now)
        .unwrap();
    let d = status::derive(&w.order, [&v]);
    assert_eq!(
        d.status,
        EffectiveStatus::Assigned,
        "the new assignee has not started"
    );
    assert_eq!(
        d.conflicts,
        vec![Conflict::ReassignedWhileOnSite {
            previous: "tech.wang".into(),
            current: Some("tech.li".into())
        }]
    );

    // Completed by the previous assignee, and by the new one: multiple completions.
    let mut w = World::new();
    let mut v1 = w.ready_visit();
    w.sign(&mut v1).unwrap();
    let mut v2 = v1.clone();
    v2.technician_id = "tech.li".into();
    let other = w.other.clone();
    w.order
        .assign("t2", &other, "rebalanced", "disp", w.now)
        .unwrap();
    let d = status::derive(&w.order, [&v2, &v1]);
    let codes: Vec<&str> = d.conflicts.iter().map(|c| c.code().as_str()).collect();
    assert!(
        codes.contains(&"completed_by_previous_assignee"),
        "{codes:?}"
    );
    assert!(codes.contains(&"multiple_completions"), "{codes:?}");
    assert_eq!(
        d,
        status::derive(&w.order, [&v1, &v2]),
        "derivation does not depend on visit order"
    );

    // Put on hold while on site.
    let mut w = World::new();
    let mut v = w.visit();
    w.progress(&mut v, ProgressKind::Arrived).unwrap();
    w.order
        .set_status(DispatchStatus::OnHold, "parts shortage", w.now)
        .unwrap();
    let d = status::derive(&w.order, [&v]);
    assert_eq!(d.status, EffectiveStatus::OnHold);
    assert_eq!(d.conflicts[0].code(), "stopped_while_on_site");
}

#[test]
fn effective_status_follows_progress() {
    let mut w = World::new();
    let mut v = w.visit();
    assert_eq!(
        status::derive(&w.order, [&v]).status,
        EffectiveStatus::Assigned
    );
    let expect = [
        (ProgressKind::Accepted, EffectiveStatus::Accepted),
        (ProgressKind::EnRoute, EffectiveStatus::EnRoute),
        (ProgressKind::Arrived, EffectiveStatus::OnSite),
        (ProgressKind::WorkStarted, EffectiveStatus::InProgress),
        (ProgressKind::WorkDone, EffectiveStatus::WorkDone),
    ];
    for (k, s) in expect {
        w.progress(&mut v, k).unwrap();
        assert_eq!(status::derive(&w.order, [&v]).status, s, "after {k:?}");
    }
    let unassigned = Order::create(seed::order(1, DAY), &SlaPolicy::default(), w.now).unwrap();
    assert_eq!(
        status::derive(&unassigned, []).status,
        EffectiveStatus::Unassigned
    );
}

#[test]
fn order_creation_validates_input() {
    let mut bad = seed::order(2, DAY);
    bad.customer.name = " ".into();
    assert_eq!(
        Order::create(bad, &SlaPolicy::default(), DAY)
            .unwrap_err()
            .code(),
        "input.empty"
    );
    let mut bad = seed::order(2, DAY);
    bad.appliance_id = "missing".into();
    assert_eq!(
        Order::create(bad, &SlaPolicy::default(), DAY)
            .unwrap_err()
            .code(),
        "input.no_such_entry"
    );
    let mut bad = seed::order(2, DAY);
    bad.order_id = "has space".into();
    assert_eq!(
        Order::create(bad, &SlaPolicy::default(), DAY)
            .unwrap_err()
            .code(),
        "document.bad_id"
    );
}

#[test]
fn the_demo_job_script_completes_every_service_type() {
    for (n, st) in [
        (0u32, onsite_domain::reference::ServiceType::Repair),
        (1, onsite_domain::reference::ServiceType::Installation),
        (2, onsite_domain::reference::ServiceType::Maintenance),
    ] {
        let mut w = World::new();
        let mut order = Order::create(seed::order(n, DAY), &SlaPolicy::default(), w.now).unwrap();
        assert_eq!(order.service_type, st);
        let tech = w.refs.profile.clone();
        order.assign("t", &tech, "", "d", w.now).unwrap();
        w.order = order;
        let mut v = w.visit();
        for e in seed::job_edits(st, "job") {
            w.apply(&mut v, e.clone())
                .unwrap_or_else(|err| panic!("{st:?}: {e:?} refused: {err}"));
        }
        assert_eq!(
            completion::missing_for_signing(&v, &w.refs.library),
            vec![],
            "{st:?} job is ready to sign"
        );
        w.apply(&mut v, seed::sign_edit("job", "客户", SIG))
            .unwrap();
        assert!(record::verify(&w.order, &v).is_valid());
    }
}

#[test]
fn refusals_name_what_was_wrong() {
    let mut w = World::new();
    let mut v = w.visit();
    for kind in [ProgressKind::Signed, ProgressKind::Reopened] {
        assert_eq!(
            w.progress(&mut v, kind).unwrap_err().code(),
            onsite_domain::Code::ProgressReservedStep,
            "{kind:?} as a plain step is a progress refusal, not a checklist answer of the wrong kind"
        );
    }
    let photo = "ab".repeat(32);
    let attach = |item: &str| VisitEdit::AttachPhoto {
        template_id: "repair".into(),
        item_id: item.into(),
        sha256: photo.clone(),
    };
    assert_eq!(
        w.apply(&mut v, attach("repair.symptom"))
            .unwrap_err()
            .code(),
        onsite_domain::Code::ChecklistPhotoNotAllowed,
        "an item without photo evidence refuses a photo as such"
    );
    assert_eq!(
        w.apply(&mut v, attach("repair.fault_photo"))
            .unwrap_err()
            .code(),
        onsite_domain::Code::ChecklistNotAnswered,
        "a photo for an unanswered item says the item needs an answer first"
    );
}
