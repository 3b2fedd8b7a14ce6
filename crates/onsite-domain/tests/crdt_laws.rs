//! Property test of the CRDT laws the documents rely on: N replicas of one visit make random
//! concurrent edits (checklist answers, parts, progress events, notes, fees), exchange changes in
//! random partial merges, then merge everything in random orders. Every replica must end with the
//! identical hydrated visit, and no list entry may be lost or duplicated.

use std::collections::{BTreeMap, BTreeSet};

use automerge::{ActorId, AutoCommit};
use onsite_domain::doc;
use onsite_domain::order::Order;
use onsite_domain::progress::{ProgressEvent, ProgressKind};
use onsite_domain::sla::SlaPolicy;
use onsite_domain::visit::{FeeLine, ItemAnswer, Outcome, PartUse, StockSource, Visit};
use onsite_domain::{seed, templates};
use proptest::prelude::*;

const ITEMS: [&str; 6] = [
    "cert.shown",
    "card.given",
    "site.cleaned",
    "shoe.covers",
    "mat.laid",
    "cloth.brought",
];

#[derive(Debug, Clone)]
enum Op {
    Answer { item: usize, done: bool },
    AddPart,
    RemoveFirstPart,
    Event { kind: usize },
    Notes { text: u8 },
    AddFee,
    Merge { from: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..ITEMS.len(), any::<bool>()).prop_map(|(item, done)| Op::Answer { item, done }),
        3 => Just(Op::AddPart),
        1 => Just(Op::RemoveFirstPart),
        2 => (0..5usize).prop_map(|kind| Op::Event { kind }),
        1 => any::<u8>().prop_map(|text| Op::Notes { text }),
        2 => Just(Op::AddFee),
        2 => (0..4usize).prop_map(|from| Op::Merge { from }),
    ]
}

fn base_visit() -> Visit {
    let now = 1_764_460_800_000;
    let order = Order::create(seed::order(0, now), &SlaPolicy::default(), now).unwrap();
    Visit::start(&order, "tech.wang", &templates::builtin_library()).unwrap()
}

struct Expected {
    parts_added: BTreeSet<String>,
    parts_removed: BTreeSet<String>,
    events: BTreeSet<String>,
    fees: BTreeSet<String>,
    answered: BTreeSet<&'static str>,
}

fn run(replica_count: usize, script: Vec<(usize, Op)>, merge_orders: Vec<Vec<usize>>) {
    let base = doc::create(&base_visit()).unwrap();
    let mut replicas: Vec<AutoCommit> = (0..replica_count)
        .map(|i| {
            let mut b = base.clone();
            b.fork().with_actor(ActorId::from(vec![i as u8 + 1; 16]))
        })
        .collect();
    let mut exp = Expected {
        parts_added: BTreeSet::new(),
        parts_removed: BTreeSet::new(),
        events: BTreeSet::new(),
        fees: BTreeSet::new(),
        answered: BTreeSet::new(),
    };
    for (step, (who, op)) in script.into_iter().enumerate() {
        let who = who % replica_count;
        if let Op::Merge { from } = op {
            let from = from % replica_count;
            if from != who {
                let mut other = replicas[from].clone();
                replicas[who].merge(&mut other).unwrap();
            }
            continue;
        }
        let mut v: Visit = doc::read(&replicas[who]).unwrap();
        let id = format!("r{who}-s{step}");
        match op {
            Op::Answer { item, done } => {
                let outcome = if done {
                    Outcome::Done
                } else {
                    Outcome::NotApplicable {
                        reason: format!("reason {step}"),
                    }
                };
                v.checklists.get_mut("haier-12345").unwrap().answers.insert(
                    ITEMS[item].to_owned(),
                    ItemAnswer {
                        outcome,
                        note: String::new(),
                        answered_at_ms: step as i64,
                        photos: vec![],
                    },
                );
                exp.answered.insert(ITEMS[item]);
            }
            Op::AddPart => {
                v.parts.push(PartUse {
                    id: id.clone(),
                    part_no: "AC-CAP-35UF".into(),
                    name_zh_cn: "电容".into(),
                    name_en: "cap".into(),
                    qty: 1,
                    unit_price_cents: 4500,
                    faulty_serial: format!("F{step}"),
                    replacement_serial: String::new(),
                    source: StockSource::Personal,
                });
                exp.parts_added.insert(id);
            }
            Op::RemoveFirstPart => {
                if !v.parts.is_empty() {
                    let removed = v.parts.remove(0);
                    exp.parts_removed.insert(removed.id);
                }
            }
            Op::Event { kind } => {
                let kind = [
                    ProgressKind::Accepted,
                    ProgressKind::EnRoute,
                    ProgressKind::Arrived,
                    ProgressKind::WorkStarted,
                    ProgressKind::WorkDone,
                ][kind];
                v.events.push(ProgressEvent {
                    id: id.clone(),
                    kind,
                    at_ms: step as i64,
                    device_id: format!("dev{who}"),
                });
                exp.events.insert(id);
            }
            Op::Notes { text } => v.diagnosis = format!("diagnosis {text} by {who}"),
            Op::AddFee => {
                v.fees.push(FeeLine {
                    id: id.clone(),
                    code: "visit".into(),
                    label_zh_cn: "上门".into(),
                    label_en: "visit".into(),
                    qty: 1,
                    unit_price_cents: 3000,
                });
                exp.fees.insert(id);
            }
            Op::Merge { .. } => unreachable!("handled above"),
        }
        doc::write(&mut replicas[who], &v).unwrap();
    }
    // Full exchange: each replica merges every other in its own random order.
    let snapshot: Vec<AutoCommit> = replicas.to_vec();
    for (i, r) in replicas.iter_mut().enumerate() {
        for &j in &merge_orders[i % merge_orders.len()] {
            let j = j % replica_count;
            let mut other = snapshot[j].clone();
            r.merge(&mut other).unwrap();
        }
        for (j, s) in snapshot.iter().enumerate() {
            let mut other = s.clone();
            if j != i {
                r.merge(&mut other).unwrap();
            }
        }
    }
    let states: Vec<Visit> = replicas
        .iter()
        .map(|r| doc::read::<Visit>(r).unwrap())
        .collect();
    for (i, s) in states.iter().enumerate().skip(1) {
        assert_eq!(
            &states[0], s,
            "replica {i} diverged from replica 0 after a full merge"
        );
    }
    let v = &states[0];
    let part_ids: Vec<&String> = v.parts.iter().map(|p| &p.id).collect();
    let unique: BTreeSet<&String> = part_ids.iter().copied().collect();
    assert_eq!(
        unique.len(),
        part_ids.len(),
        "a part line was duplicated: {part_ids:?}"
    );
    let expected_parts: BTreeSet<String> = exp
        .parts_added
        .difference(&exp.parts_removed)
        .cloned()
        .collect();
    assert_eq!(
        unique.into_iter().cloned().collect::<BTreeSet<_>>(),
        expected_parts,
        "parts lost or resurrected"
    );
    let event_ids: Vec<&String> = v.events.iter().map(|e| &e.id).collect();
    assert_eq!(
        event_ids.len(),
        exp.events.len(),
        "progress events lost or duplicated"
    );
    assert_eq!(
        event_ids.into_iter().cloned().collect::<BTreeSet<_>>(),
        exp.events
    );
    let fee_ids: BTreeMap<&String, usize> = v.fees.iter().fold(BTreeMap::new(), |mut m, f| {
        *m.entry(&f.id).or_default() += 1;
        m
    });
    assert!(fee_ids.values().all(|n| *n == 1), "fee line duplicated");
    assert_eq!(fee_ids.len(), exp.fees.len(), "fee lines lost");
    let answered: BTreeSet<&str> = v.checklists["haier-12345"]
        .answers
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(answered, exp.answered, "checklist answers lost");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn replicas_converge_without_losing_or_duplicating_entries(
        n in 2usize..5,
        script in prop::collection::vec((0usize..4, op()), 1..40),
        orders in prop::collection::vec(prop::collection::vec(0usize..4, 0..4), 1..4),
    ) {
        run(n, script, orders);
    }
}

#[test]
fn merge_is_commutative_and_idempotent_for_a_fixed_case() {
    let base = doc::create(&base_visit()).unwrap();
    let mut a = base.clone().with_actor(ActorId::from(vec![1u8; 16]));
    let mut b = base.clone().with_actor(ActorId::from(vec![2u8; 16]));
    for (d, name) in [(&mut a, "a"), (&mut b, "b")] {
        let mut v: Visit = doc::read(d).unwrap();
        v.events.push(ProgressEvent {
            id: name.into(),
            kind: ProgressKind::Arrived,
            at_ms: 1,
            device_id: name.into(),
        });
        doc::write(d, &v).unwrap();
    }
    let mut ab = a.clone();
    ab.merge(&mut b.clone()).unwrap();
    let mut ba = b.clone();
    ba.merge(&mut a.clone()).unwrap();
    let once: Visit = doc::read(&ab).unwrap();
    assert_eq!(
        once,
        doc::read::<Visit>(&ba).unwrap(),
        "merge order must not matter"
    );
    ab.merge(&mut b.clone()).unwrap();
    assert_eq!(
        once,
        doc::read::<Visit>(&ab).unwrap(),
        "merging twice changes nothing"
    );
    assert_eq!(once.events.len(), 2, "both concurrent events survive");
}
