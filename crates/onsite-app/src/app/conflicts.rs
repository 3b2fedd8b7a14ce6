//! The conflict review queue: every conflict `onsite_domain::status` derives on this device with
//! the dispatcher's decisions (`onsite_domain::resolve`) and the technicians' negative stock
//! (`onsite_domain::parts`); `resolve_conflict` records a decision on the order, committed to the
//! device store and synced like any other order edit. The technician's side (the conflicts of
//! their own order) is `order_conflicts`, used by the order detail.

use onsite_domain::DocId;
use onsite_domain::order::Order;
use onsite_domain::parts;
use onsite_domain::resolve::{self, Entry, Request, Resolution, Stamp};
use onsite_domain::status::{self, Conflict};
use onsite_domain::visit::Visit;
use onsite_store::Store;

use super::dispatch_read::{Snapshot, dispatch_status_view};
use super::parts::LOW_STOCK_THRESHOLD;
use super::{App, lock, read_order};
use crate::error::AppError;
use crate::view::*;

fn resolution_view(r: &Resolution, name_of: &dyn Fn(&str) -> String) -> ResolutionView {
    ResolutionView {
        action: r.action,
        technician_id: r.technician_id.clone(),
        technician_name: r.technician_id.as_deref().map(name_of),
        note: r.note.clone(),
        by: r.by.clone(),
        at_ms: r.at_ms,
    }
}

fn conflict_view(
    order: &Order,
    status: onsite_domain::status::EffectiveStatus,
    e: &Entry,
    snap: &Snapshot,
) -> ConflictView {
    let name_of = |t: &str| snap.name_of(t);
    let sections = match &e.conflict {
        Some(Conflict::ModifiedAfterSigning { sections, .. }) => sections.clone(),
        _ => Vec::new(),
    };
    ConflictView {
        order_id: order.order_id.clone(),
        order_no: order.order_no.clone(),
        key: e.key.clone(),
        kind: e.kind,
        status,
        dispatch_status: dispatch_status_view(order.status),
        status_reason: order.status_reason.clone(),
        technician_names: e.technicians.iter().map(|t| snap.name_of(t)).collect(),
        technicians: e.technicians.clone(),
        current_assignee: order.assignee.clone(),
        sections,
        open: e.is_open(),
        derived: e.conflict.is_some(),
        allowed: e
            .allowed
            .iter()
            .map(|c| ChoiceView {
                choice: c.clone(),
                technician_name: c.technician_id.as_deref().map(name_of),
            })
            .collect(),
        resolution: e.resolution.as_ref().map(|r| resolution_view(r, &name_of)),
    }
}

/// Every technician's parts below zero on this device, by technician and part number.
fn negative_stock(store: &Store, snap: &Snapshot) -> Result<Vec<NegativeStockView>, AppError> {
    let mut out = Vec::new();
    for id in store.list_doc_ids()? {
        let DocId::Ledger(t) = id else { continue };
        for line in parts::stock_lines(&store.stock_levels(&t)?, LOW_STOCK_THRESHOLD) {
            if line.negative {
                out.push(NegativeStockView {
                    technician_id: t.clone(),
                    technician_name: snap.name_of(&t),
                    part_no: line.part_no,
                    on_hand: line.on_hand,
                });
            }
        }
    }
    Ok(out)
}

impl App {
    /// The review queue: open conflicts first, then resolved ones, each by order number; and
    /// the negative stock lines.
    pub fn conflicts(&self) -> Result<ConflictQueueView, AppError> {
        self.dispatcher()?;
        let store = lock(&self.store);
        let snap = Snapshot::read(&store)?;
        let negative = negative_stock(&store, &snap)?;
        drop(store);
        let mut orders: Vec<&Order> = snap.orders.iter().collect();
        orders.sort_by(|a, b| (&a.order_no, &a.order_id).cmp(&(&b.order_no, &b.order_id)));
        let mut out = Vec::new();
        for order in orders {
            let derived = status::derive(order, snap.visits_of(&order.order_id));
            for e in resolve::review(order, &derived.conflicts) {
                out.push(conflict_view(order, derived.status, &e, &snap));
            }
        }
        // Stable: within open and resolved, order number order stays.
        out.sort_by_key(|c| !c.open);
        let open = out.iter().filter(|c| c.open).count() + negative.len();
        Ok(ConflictQueueView {
            open: open as u32,
            conflicts: out,
            negative_stock: negative,
        })
    }

    /// Decide on one open conflict with one of its allowed choices and a note; recorded on the
    /// order (with the reopening or the transfer the decision stands for) and synced.
    pub fn resolve_conflict(
        &self,
        req: ResolveConflictRequest,
    ) -> Result<ConflictQueueView, AppError> {
        let by = self.dispatcher()?;
        let now = self.now();
        let id = (self.new_id)();
        let (resolution_id, transfer_id) = (format!("rs-{id}"), format!("tr-{id}"));
        {
            let mut store = lock(&self.store);
            read_order(&store, &req.order_id)?;
            let snap = Snapshot::read(&store)?;
            let visits = snap.visits_of(&req.order_id);
            let request = Request {
                conflict: req.key,
                choice: req.choice,
                note: req.note,
            };
            let stamp = Stamp {
                resolution_id: &resolution_id,
                transfer_id: &transfer_id,
                by: &by,
                now,
            };
            store.update(&DocId::Order(req.order_id.clone()), |o: &mut Order| {
                resolve::resolve(
                    o,
                    visits.iter().copied(),
                    &snap.technicians,
                    &request,
                    stamp,
                )
                .map(|_| ())
            })?;
        }
        self.nudge();
        self.conflicts()
    }
}

/// The conflicts of `technician`'s own order, derived from the order and their own visit, with
/// the dispatcher's decisions on them.
pub(super) fn order_conflicts(
    order: &Order,
    visit: &Visit,
    technician: &str,
    name_of: &dyn Fn(&str) -> String,
) -> Vec<OrderConflictView> {
    let derived = status::derive(order, [visit]);
    resolve::review(order, &derived.conflicts)
        .into_iter()
        .filter(|e| e.technicians.iter().any(|t| t == technician))
        .map(|e| OrderConflictView {
            kind: e.kind,
            dispatch_status: dispatch_status_view(order.status),
            status_reason: order.status_reason.clone(),
            resolution: e.resolution.as_ref().map(|r| resolution_view(r, name_of)),
        })
        .collect()
}
