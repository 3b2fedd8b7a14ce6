//! An appliance's service history (issue 10): what was done to it on every earlier order, whoever
//! did it — date, order number, service type, technician, problem, what was found and done, the
//! parts replaced with their serials, the readings taken, the rating and whether the customer
//! signed. Households are the dispatchers' documents and a technician's device only holds their
//! own orders, so the dispatcher's device writes [`appliance_history`] into the order
//! (`Order::appliance_history`) when it creates or (re)assigns it, at most [`HISTORY_LIMIT`]
//! entries; the technician's device [`merge`]s that snapshot with what it knows itself.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::Millis;
use crate::order::Order;
use crate::reference::{ServiceType, TemplateLibrary};
use crate::visit::{Outcome, PartUse, Visit};

/// Most entries an order carries, newest first, so an order never grows without limit.
pub const HISTORY_LIMIT: usize = 10;

/// One earlier order on the appliance.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize, TS)]
pub struct ServiceEntry {
    #[key]
    pub order_id: String,
    pub order_no: String,
    /// When the customer signed, else the visit's last step.
    #[ts(type = "number")]
    pub at_ms: Millis,
    pub service_type: ServiceType,
    pub technician_id: String,
    pub technician_name: String,
    pub problem: String,
    pub diagnosis: String,
    pub work_performed: String,
    pub parts: Vec<ReplacedPart>,
    pub readings: Vec<HistoryReading>,
    pub rating: Option<u32>,
    pub signed: bool,
}

/// A part used on an earlier order, with the serial taken out and the one put in.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize, TS)]
pub struct ReplacedPart {
    #[key]
    pub id: String,
    pub part_no: String,
    pub name_zh_cn: String,
    pub name_en: String,
    #[ts(type = "number")]
    pub qty: i64,
    pub faulty_serial: String,
    pub replacement_serial: String,
}

impl From<&PartUse> for ReplacedPart {
    fn from(p: &PartUse) -> Self {
        ReplacedPart {
            id: p.id.clone(),
            part_no: p.part_no.clone(),
            name_zh_cn: p.name_zh_cn.clone(),
            name_en: p.name_en.clone(),
            qty: p.qty,
            faulty_serial: p.faulty_serial.clone(),
            replacement_serial: p.replacement_serial.clone(),
        }
    }
}

/// A reading taken on an earlier order.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize, TS)]
pub struct HistoryReading {
    /// `<template>/<item>`.
    #[key]
    pub key: String,
    pub label_zh_cn: String,
    pub label_en: String,
    pub value: f64,
    pub unit: String,
}

/// The visit that speaks for `order`: its signed visit (the latest signature), else the one with
/// the latest step; none when nobody got as far as a step.
fn chosen_visit<'a>(order: &Order, visits: &'a [Visit]) -> Option<&'a Visit> {
    let mine = visits.iter().filter(|v| v.order_id == order.order_id);
    let last_step = |v: &Visit| v.events.iter().map(|e| e.at_ms).max();
    let signed = mine
        .clone()
        .filter_map(|v| v.signature.as_ref().map(|s| (s.signed_at_ms, v)))
        .max_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| a.1.technician_id.cmp(&b.1.technician_id))
        });
    signed.map(|(_, v)| v).or_else(|| {
        mine.filter_map(|v| last_step(v).map(|at| (at, v)))
            .max_by(|a, b| {
                a.0.cmp(&b.0)
                    .then_with(|| a.1.technician_id.cmp(&b.1.technician_id))
            })
            .map(|(_, v)| v)
    })
}

fn readings(visit: &Visit, library: &TemplateLibrary) -> Vec<HistoryReading> {
    let mut out = Vec::new();
    for inst in visit.checklists.values() {
        let template = library.get(&inst.template_id, inst.version).ok();
        for (item_id, answer) in &inst.answers {
            let Outcome::Reading { value, unit } = &answer.outcome else {
                continue;
            };
            let label = template.and_then(|t| t.item(item_id)).map(|i| &i.label);
            out.push(HistoryReading {
                key: format!("{}/{item_id}", inst.template_id),
                label_zh_cn: label.map_or_else(|| item_id.clone(), |l| l.zh_cn.clone()),
                label_en: label.map_or_else(|| item_id.clone(), |l| l.en.clone()),
                value: *value,
                unit: unit.clone(),
            });
        }
    }
    out
}

fn entry(
    order: &Order,
    visit: &Visit,
    library: &TemplateLibrary,
    name_of: &dyn Fn(&str) -> String,
) -> ServiceEntry {
    let at_ms = visit.signature.as_ref().map_or_else(
        || {
            visit
                .events
                .iter()
                .map(|e| e.at_ms)
                .max()
                .unwrap_or(order.created_at_ms)
        },
        |s| s.signed_at_ms,
    );
    ServiceEntry {
        order_id: order.order_id.clone(),
        order_no: order.order_no.clone(),
        at_ms,
        service_type: order.service_type,
        technician_id: visit.technician_id.clone(),
        technician_name: visit.signature.as_ref().map_or_else(
            || name_of(&visit.technician_id),
            |s| s.technician_name.clone(),
        ),
        problem: order.problem.clone(),
        diagnosis: visit.diagnosis.clone(),
        work_performed: visit.work_performed.clone(),
        parts: visit.parts.iter().map(ReplacedPart::from).collect(),
        readings: readings(visit, library),
        rating: visit.rating.as_ref().map(|r| r.stars),
        signed: visit.is_signed(),
    }
}

/// Newest first; the same instant by order number, highest first.
fn sort_and_bound(entries: &mut Vec<ServiceEntry>, limit: usize) {
    entries.sort_by(|a, b| {
        b.at_ms
            .cmp(&a.at_ms)
            .then_with(|| b.order_no.cmp(&a.order_no))
            .then_with(|| b.order_id.cmp(&a.order_id))
    });
    entries.truncate(limit);
}

/// Which appliance a history is for, and the order it is for (left out of its own history).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject<'a> {
    pub household_id: &'a str,
    pub appliance_id: &'a str,
    pub except_order_id: &'a str,
}

impl<'a> Subject<'a> {
    /// The appliance `order` is about.
    pub fn of(order: &'a Order) -> Self {
        Subject {
            household_id: &order.customer.household_id,
            appliance_id: &order.appliance_id,
            except_order_id: &order.order_id,
        }
    }
}

/// The service history of `subject` from `orders` and `visits`: one entry per other order of the
/// same household on the same appliance that someone worked on, newest first, at most `limit`.
/// `name_of` names a technician (a signed visit names the one who signed).
pub fn appliance_history(
    subject: Subject<'_>,
    orders: &[Order],
    visits: &[Visit],
    library: &TemplateLibrary,
    name_of: &dyn Fn(&str) -> String,
    limit: usize,
) -> Vec<ServiceEntry> {
    let mut out: Vec<ServiceEntry> = orders
        .iter()
        .filter(|o| o.order_id != subject.except_order_id)
        .filter(|o| o.customer.household_id == subject.household_id)
        .filter(|o| o.appliance_id == subject.appliance_id)
        .filter_map(|o| chosen_visit(o, visits).map(|v| entry(o, v, library, name_of)))
        .collect();
    sort_and_bound(&mut out, limit);
    out
}

/// The history a technician's device shows: the order's snapshot and what the device computed
/// itself from its own documents, one entry per order (the device's own wins: it may be newer),
/// newest first, at most `limit`.
pub fn merge(
    snapshot: &[ServiceEntry],
    local: Vec<ServiceEntry>,
    limit: usize,
) -> Vec<ServiceEntry> {
    let mut out = local;
    for e in snapshot {
        if !out.iter().any(|l| l.order_id == e.order_id) {
            out.push(e.clone());
        }
    }
    sort_and_bound(&mut out, limit);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::{self, EditContext};
    use crate::reference::TechnicianProfile;
    use crate::sla::SlaPolicy;
    use crate::{HOUR, seed, templates};

    const DAY: Millis = 1_795_996_800_000;

    /// Demo household 1's order `n` days ago (`k` varies the id), done and signed by `tech`
    /// `days_ago` days before [`DAY`].
    fn done(
        k: u32,
        service: ServiceType,
        tech: &TechnicianProfile,
        days_ago: i64,
    ) -> (Order, Visit) {
        let at = DAY - days_ago * 24 * HOUR;
        let mut new = seed::order(0, at);
        new.order_id = format!("o-past-{k}");
        new.order_no = format!("WO-P{k}");
        new.service_type = service;
        let mut order = Order::create(new, &SlaPolicy::PUBLISHED, at).expect("order");
        order
            .assign(&format!("t{k}"), tech, "", "disp", at)
            .expect("assign");
        let library = templates::builtin_library();
        let (fees, parts) = (seed::fee_schedule(0), seed::parts_catalogue());
        let mut visit = Visit::start(&order, &tech.technician_id, &library).expect("visit");
        let mut edits = seed::job_edits(service, &format!("p{k}"));
        edits.push(seed::sign_edit(&format!("p{k}"), "张伟", &"a".repeat(64)));
        for (i, e) in edits.into_iter().enumerate() {
            let ctx = EditContext {
                order: &order,
                library: &library,
                fees: &fees,
                parts: &parts,
                profile: tech,
                device_id: "d",
                now: at + i as i64 * 60_000,
            };
            edit::apply(&mut visit, e, &ctx).expect("demo edit");
        }
        (order, visit)
    }

    #[test]
    fn the_history_has_every_earlier_order_on_the_appliance_by_anyone_newest_first() {
        let a = seed::technician("tech.a", "张师傅", "1", "C1", DAY);
        let b = seed::technician("tech.b", "李师傅", "2", "C2", DAY);
        let (o1, v1) = done(1, ServiceType::Repair, &a, 90);
        let (o2, v2) = done(2, ServiceType::Maintenance, &b, 30);
        let (mut other_appliance, v3) = done(3, ServiceType::Repair, &a, 10);
        other_appliance.appliance_id = "ap-hh1-fridge".into();
        let (untouched, _) = done(4, ServiceType::Repair, &a, 5);
        let now = Order::create(seed::order(0, DAY), &SlaPolicy::PUBLISHED, DAY).expect("order");
        let orders = [o1, o2, other_appliance, untouched, now.clone()];
        let visits = [v1, v2, v3];
        let name = |t: &str| format!("name of {t}");
        let library = templates::builtin_library();
        let h = appliance_history(
            Subject::of(&now),
            &orders,
            &visits,
            &library,
            &name,
            HISTORY_LIMIT,
        );
        let seen: Vec<(&str, &str)> = h
            .iter()
            .map(|e| (e.order_no.as_str(), e.technician_name.as_str()))
            .collect();
        assert_eq!(
            seen,
            [("WO-P2", "李师傅"), ("WO-P1", "张师傅")],
            "same appliance only, visited only, newest first, named as signed"
        );
        let repair = &h[1];
        assert!(repair.signed, "signed");
        assert_eq!(repair.rating, Some(5), "the customer's rating");
        assert!(
            repair
                .parts
                .iter()
                .any(|p| p.part_no == "AC-CAP-35UF" && p.faulty_serial == "CAP-OLD-7731"),
            "the replaced part with its serial: {:?}",
            repair.parts
        );
        assert!(
            repair
                .readings
                .iter()
                .any(|r| r.unit == "V" && r.value == 223.0),
            "the readings taken: {:?}",
            repair.readings
        );
        assert!(!repair.work_performed.is_empty(), "what was done");
        let one = appliance_history(Subject::of(&now), &orders, &visits, &library, &name, 1);
        assert_eq!(one.len(), 1, "bounded");
        assert_eq!(one[0].order_no, "WO-P2", "the newest kept");
    }

    #[test]
    fn merge_keeps_one_entry_per_order_and_prefers_the_device_s_own() {
        let a = seed::technician("tech.a", "张师傅", "1", "C1", DAY);
        let (o1, v1) = done(1, ServiceType::Repair, &a, 90);
        let (o2, v2) = done(2, ServiceType::Maintenance, &a, 30);
        let now = Order::create(seed::order(0, DAY), &SlaPolicy::PUBLISHED, DAY).expect("order");
        let library = templates::builtin_library();
        let name = |t: &str| t.to_owned();
        let orders = [o1.clone(), o2, now.clone()];
        let snapshot = appliance_history(
            Subject::of(&now),
            &orders,
            &[v1.clone(), v2],
            &library,
            &name,
            HISTORY_LIMIT,
        );
        let mut local = appliance_history(
            Subject::of(&now),
            &[o1, now.clone()],
            &[v1],
            &library,
            &name,
            10,
        );
        local[0].diagnosis = "the device's own, newer".into();
        let merged = merge(&snapshot, local, HISTORY_LIMIT);
        let nos: Vec<&str> = merged.iter().map(|e| e.order_no.as_str()).collect();
        assert_eq!(nos, ["WO-P2", "WO-P1"], "no duplicates, newest first");
        assert_eq!(
            merged[1].diagnosis, "the device's own, newer",
            "the device's entry wins"
        );
        assert_eq!(merge(&snapshot, Vec::new(), 1).len(), 1, "bounded");
    }
}
