//! `doc::read` hydrates through `doc_reader::Reader` (each object read once). It must give exactly
//! what hydrating from the document itself gives — for every kind of document, and after
//! concurrent edits whose conflicts Automerge settles (the visible value must be the same one).

use automerge::{ActorId, AutoCommit};
use autosurgeon::Hydrate;
use onsite_domain::bonus::BonusVersions;
use onsite_domain::edit::{self, VisitEdit};
use onsite_domain::order::{Appliance, Order, Window};
use onsite_domain::sla::SlaPolicy;
use onsite_domain::visit::Visit;
use onsite_domain::{MINUTE, doc, seed, templates};
use onsite_testkit::Reference;
use proptest::prelude::*;

const NOW: i64 = 1_764_460_800_000;

/// Both ways of hydrating `doc` as `T` agree; the value read.
fn read_both<T: Hydrate + PartialEq + std::fmt::Debug>(doc: &AutoCommit) -> T {
    let direct: T = autosurgeon::hydrate(doc).expect("the document hydrates directly");
    let read: T = doc::read(doc).expect("the document reads through the reader");
    assert_eq!(
        read, direct,
        "reading each object once must give what reading field by field gives"
    );
    read
}

fn round_trip<T: autosurgeon::Reconcile + Hydrate + PartialEq + std::fmt::Debug>(value: &T) {
    let d = doc::create(value).expect("the value is written");
    assert_eq!(
        &read_both::<T>(&d),
        value,
        "a written value reads back unchanged"
    );
}

/// The demo order, assigned to tech.a, and tech.a's signed visit of it.
fn job() -> (Order, Visit) {
    let profile = seed::technician("tech.a", "甲", "13900000001", "HC-1", NOW - 86_400_000);
    let r = Reference::demo(profile.clone()).with_fees(seed::fee_schedule(NOW - 86_400_000));
    let mut order = Order::create(seed::order(0, NOW), &SlaPolicy::default(), NOW).unwrap();
    order.assign("t1", &profile, "", "disp", NOW).unwrap();
    let mut v = Visit::start(&order, "tech.a", &templates::builtin_library()).unwrap();
    let mut edits = seed::job_edits(order.service_type, "job");
    edits.push(VisitEdit::Sign {
        event_id: "sign".into(),
        signer_name: "张伟".into(),
        image_sha256: "ab".repeat(32),
    });
    for (i, e) in edits.into_iter().enumerate() {
        edit::apply(
            &mut v,
            e.clone(),
            &r.context(&order, NOW + i as i64 * MINUTE),
        )
        .unwrap_or_else(|err| panic!("the demo edit {e:?} applies: {err}"));
    }
    (order, v)
}

#[test]
fn every_kind_of_document_reads_the_same_through_the_reader() {
    let (order, visit) = job();
    round_trip(&order);
    round_trip(&visit);
    round_trip(&seed::household(3, NOW));
    round_trip(&templates::builtin_library());
    round_trip(&seed::fee_schedule(NOW));
    round_trip(&seed::parts_catalogue());
    round_trip(&seed::technician(
        "tech.b",
        "乙",
        "13900000002",
        "HC-2",
        NOW,
    ));
    round_trip(&seed::service_settings(NOW));
    round_trip(&BonusVersions::first(seed::bonus_formula(NOW)).unwrap());
}

#[derive(Debug, Clone)]
enum Edit {
    Problem(u8),
    StatusReason(u8),
    Assignee(Option<u8>),
    Schedule(Option<u8>),
    AddAppliance(u8),
    RemoveFirstAppliance,
    Notes(u8),
}

fn an_edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<u8>().prop_map(Edit::Problem),
        any::<u8>().prop_map(Edit::StatusReason),
        proptest::option::of(any::<u8>()).prop_map(Edit::Assignee),
        proptest::option::of(any::<u8>()).prop_map(Edit::Schedule),
        any::<u8>().prop_map(Edit::AddAppliance),
        Just(Edit::RemoveFirstAppliance),
        any::<u8>().prop_map(Edit::Notes),
    ]
}

fn apply(o: &mut Order, e: &Edit, who: usize) {
    match *e {
        Edit::Problem(n) => o.problem = format!("problem {n} by {who}"),
        Edit::StatusReason(n) => o.status_reason = format!("reason {n}"),
        Edit::Assignee(a) => o.assignee = a.map(|n| format!("tech.{n}")),
        Edit::Schedule(s) => {
            o.schedule = s.map(|n| Window {
                start_ms: NOW + i64::from(n) * MINUTE,
                end_ms: NOW + (i64::from(n) + 60) * MINUTE,
            })
        }
        Edit::AddAppliance(n) => o.appliances.push(Appliance {
            id: format!("ap-{who}-{n}-{}", o.appliances.len()),
            category: "washer".into(),
            brand: "Haier".into(),
            model: format!("M{n}"),
            serial: format!("S{n}"),
            purchase_date_ms: Some(NOW),
            warranty_until_ms: None,
        }),
        Edit::RemoveFirstAppliance => {
            if !o.appliances.is_empty() {
                o.appliances.remove(0);
            }
        }
        Edit::Notes(n) => {
            let notes = format!("{}{n};", o.dispatcher_notes.as_str());
            o.dispatcher_notes.update(notes);
        }
    }
}

proptest! {
    /// Two dispatchers' devices edit one order concurrently (the same fields too), then merge
    /// both ways: every replica reads the same through the reader as field by field.
    #[test]
    fn concurrent_edits_read_the_same_through_the_reader(
        edits in proptest::collection::vec((0..2usize, an_edit()), 1..16),
    ) {
        let base = doc::create(&job().0).unwrap();
        let mut forks: Vec<AutoCommit> = (0..2u8)
            .map(|i| base.clone().fork().with_actor(ActorId::from(vec![i + 1; 16])))
            .collect();
        for (who, e) in &edits {
            let mut o: Order = read_both(&forks[*who]);
            apply(&mut o, e, *who);
            doc::write(&mut forks[*who], &o).unwrap();
        }
        let (mut a, mut b) = (forks[0].clone(), forks[1].clone());
        a.merge(&mut forks[1]).unwrap();
        b.merge(&mut forks[0]).unwrap();
        let (from_a, from_b): (Order, Order) = (read_both(&a), read_both(&b));
        prop_assert_eq!(from_a, from_b, "both merge orders read as the same order");
    }
}
