//! Moving a copied job in time (the generated history, [`crate::history_gen`]): every time the
//! history window reads (`onsite_domain::retention::job`) and the order's deadlines and
//! appointment shift by the same amount, so the copy is the template's job on another day.

use onsite_domain::Millis;
use onsite_domain::order::Order;
use onsite_domain::visit::Visit;

/// Shift `order`'s times by `delta`.
pub fn order(order: &mut Order, delta: Millis) {
    order.created_at_ms += delta;
    order.status_changed_at_ms += delta;
    order.sla.respond_by_ms += delta;
    order.sla.arrive_by_ms += delta;
    order.sla.complete_by_ms += delta;
    if let Some(w) = order.schedule.as_mut() {
        w.start_ms += delta;
        w.end_ms += delta;
    }
    for t in &mut order.transfers {
        t.at_ms += delta;
    }
    for f in &mut order.follow_ups {
        f.at_ms += delta;
    }
    for c in &mut order.complaints {
        c.received_at_ms += delta;
        c.resolve_by_ms += delta;
        if let Some(r) = c.resolution.as_mut() {
            r.at_ms += delta;
        }
    }
}

/// Shift `visit`'s times by `delta`.
pub fn visit(visit: &mut Visit, delta: Millis) {
    for e in &mut visit.events {
        e.at_ms += delta;
    }
    for s in visit
        .signature
        .iter_mut()
        .chain(&mut visit.signature_history)
    {
        s.signed_at_ms += delta;
    }
}
