//! The console's read commands: the board, the assignment picker, one order, customers found by
//! phone or name and the SLA preview (the conflict review queue is `conflicts.rs`). Everything is computed by the
//! domain (`onsite_domain::board`, `sla`, `status`) from the replicas on this device.

use std::collections::BTreeMap;

use onsite_domain::board::{self, BoardOrder, Day};
use onsite_domain::household::Household;
use onsite_domain::order::{DispatchStatus, Order, Tier, Window};
use onsite_domain::reference::TechnicianProfile;
use onsite_domain::sla::{SlaBadge, SlaPolicy};
use onsite_domain::suggest;
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, HOUR, Millis};
use onsite_store::Store;

use super::{App, lock, read_order};
use crate::convert::badge_view;
use crate::error::AppError;
use crate::view::*;

/// Most customers `find_customers` returns.
pub const CUSTOMER_LIMIT: usize = 20;

/// Every order, visit and technician profile on the device (a dispatcher's device holds the
/// service centre's), each list in document-id order.
pub(super) struct Snapshot {
    pub orders: Vec<Order>,
    pub visits: Vec<Visit>,
    pub technicians: Vec<TechnicianProfile>,
}

impl Snapshot {
    pub fn read(store: &Store) -> Result<Snapshot, AppError> {
        let mut snap = Snapshot {
            orders: Vec::new(),
            visits: Vec::new(),
            technicians: Vec::new(),
        };
        for id in store.list_doc_ids()? {
            match &id {
                DocId::Order(_) => snap.orders.push(store.read(&id)?),
                DocId::Visit { .. } => snap.visits.push(store.read(&id)?),
                DocId::Profile(_) => snap.technicians.push(store.read(&id)?),
                _ => {}
            }
        }
        Ok(snap)
    }

    pub fn name_of(&self, technician_id: &str) -> String {
        self.technicians
            .iter()
            .find(|t| t.technician_id == technician_id)
            .map_or_else(|| technician_id.to_owned(), |t| t.name.clone())
    }

    pub fn visits_of(&self, order_id: &str) -> Vec<&Visit> {
        self.visits
            .iter()
            .filter(|v| v.order_id == order_id)
            .collect()
    }
}

pub(crate) fn role_view(role: onsite_wire::Role) -> RoleView {
    match role {
        onsite_wire::Role::Technician => RoleView::Technician,
        onsite_wire::Role::Dispatcher => RoleView::Dispatcher,
        onsite_wire::Role::Admin => RoleView::Admin,
    }
}

pub(super) fn dispatch_status_view(s: DispatchStatus) -> DispatchStatusView {
    match s {
        DispatchStatus::Open => DispatchStatusView::Open,
        DispatchStatus::OnHold => DispatchStatusView::OnHold,
        DispatchStatus::Cancelled => DispatchStatusView::Cancelled,
    }
}

pub(super) fn board_card(o: &BoardOrder<'_>) -> BoardCard {
    let order = o.order;
    BoardCard {
        order_id: order.order_id.clone(),
        order_no: order.order_no.clone(),
        customer_name: order.customer.name.clone(),
        address: order.customer.address.clone(),
        tier: order.customer.tier,
        service_type: order.service_type,
        problem: order.problem.clone(),
        status: o.status,
        dispatch_status: dispatch_status_view(order.status),
        sla: badge_view(o.sla.badge),
        alert: o
            .alert_badge()
            .is_some_and(|b| b >= onsite_domain::sla::SlaBadge::AtRisk),
        next_deadline_ms: o.next_deadline_ms,
        window_start_ms: order.schedule.map(|w| w.start_ms),
        window_end_ms: order.schedule.map(|w| w.end_ms),
        assignee: order.assignee.clone(),
        transfers: order.transfers.len() as u32,
    }
}

pub(super) fn known_appliance(a: &onsite_domain::order::Appliance, now: Millis) -> KnownAppliance {
    KnownAppliance {
        id: a.id.clone(),
        category: a.category.clone(),
        brand: a.brand.clone(),
        model: a.model.clone(),
        serial: a.serial.clone(),
        in_warranty: a.in_warranty(now),
    }
}

/// Working hours a suggestion fits a visit into, from the start of the local day.
const WORK_FROM: Millis = 8 * HOUR;
const WORK_UNTIL: Millis = 20 * HOUR;
/// How long a visit is expected to take on site (the demo's windows are two hours).
const EXPECTED_VISIT: Millis = 2 * HOUR;

/// The ranked suggestions for `order` on `day` ([`suggest::suggest`] over that day's orders).
fn suggestions(order: &Order, snap: &Snapshot, day: Day, now: Millis) -> Vec<SuggestionView> {
    let that_day: Vec<Order> = snap
        .orders
        .iter()
        .filter(|o| o.schedule.is_some_and(|w| day.overlaps(&w)))
        .cloned()
        .collect();
    let fit = suggest::Day {
        orders: &that_day,
        work: Window {
            start_ms: day.start_ms + WORK_FROM,
            end_ms: day.start_ms + WORK_UNTIL,
        },
        duration_ms: EXPECTED_VISIT,
    };
    suggest::suggest(order, &snap.technicians, &fit, now)
        .ranked
        .into_iter()
        .map(|s| SuggestionView {
            technician_id: s.technician_id,
            name: s.name,
            meets_deadline: s.meets_deadline,
            reasons: s.reasons,
        })
        .collect()
}

impl App {
    /// The signed-in dispatcher or admin; a technician is refused.
    pub(super) fn dispatcher(&self) -> Result<String, AppError> {
        match onsite_client::Session::load(&self.store)? {
            None => Err(AppError::NotSignedIn),
            Some(s) if s.role == onsite_wire::Role::Technician => Err(AppError::DispatchersOnly),
            Some(s) => Ok(s.user_id),
        }
    }

    /// The device-local day `offset_days` from today.
    pub(super) fn day(&self, offset_days: i32, now: Millis) -> Day {
        let start = self.local_day_start(now) + offset_days as Millis * 24 * HOUR;
        Day {
            start_ms: start,
            end_ms: start + 24 * HOUR,
        }
    }

    /// The dispatch board of the device-local day `offset_days` from today (0 = today), with
    /// the orders that became at risk or breached since the previous board on this device.
    pub fn board(&self, offset_days: i32) -> Result<BoardView, AppError> {
        self.dispatcher()?;
        let now = self.now();
        let day = self.day(offset_days, now);
        let snap = Snapshot::read(&lock(&self.store))?;
        let b = board::board(
            day,
            &snap.orders,
            &snap.visits,
            &snap.technicians,
            &SlaPolicy::PUBLISHED,
            now,
        );
        let alerts = self.board_alerts(&b);
        Ok(BoardView {
            day_start_ms: day.start_ms,
            day_end_ms: day.end_ms,
            now_ms: now,
            pool: b.pool.iter().map(board_card).collect(),
            lanes: b
                .lanes
                .iter()
                .map(|l| LaneView {
                    technician_id: l.technician.technician_id.clone(),
                    name: l.technician.name.clone(),
                    certificate: l.certificate,
                    blocks: l.blocks.iter().map(board_card).collect(),
                    block_tracks: l.tracks.of.clone(),
                    tracks: l.tracks.count,
                    unscheduled: l.unscheduled.iter().map(board_card).collect(),
                })
                .collect(),
            at_risk: b.at_risk,
            breached: b.breached,
            alerts,
        })
    }

    /// Compare with the previous board's badges (none the first time: no alert on opening).
    fn board_alerts(&self, b: &board::Board<'_>) -> Vec<SlaAlertView> {
        let now: BTreeMap<String, SlaBadge> = board::badges(b);
        let mut slot = self.board_badges.lock().unwrap_or_else(|p| p.into_inner());
        let alerts = match slot.as_mut() {
            None => Vec::new(),
            Some(before) => {
                let alerts = board::newly_alerting(before, b);
                // Orders of other days keep their badges; an order seen for the first time
                // (new, or on a day not shown before) alerts if it is already at risk.
                before.extend(now.clone());
                alerts
            }
        };
        if slot.is_none() {
            *slot = Some(now);
        }
        alerts
            .into_iter()
            .map(|a| SlaAlertView {
                order_id: a.order_id,
                order_no: a.order_no,
                badge: badge_view(a.badge),
            })
            .collect()
    }

    /// SLA deadlines an order of `tier` gets if saved now (shown before saving).
    pub fn sla_preview(&self, tier: Tier) -> Result<SlaPreview, AppError> {
        self.dispatcher()?;
        let t = SlaPolicy::PUBLISHED.targets(tier, self.now());
        Ok(SlaPreview {
            tier,
            respond_by_ms: t.respond_by_ms,
            arrive_by_ms: t.arrive_by_ms,
            complete_by_ms: t.complete_by_ms,
        })
    }

    /// One order with its SLA deadlines and transfer history (转派).
    pub fn dispatch_order(&self, order_id: &str) -> Result<DispatchOrderView, AppError> {
        self.dispatcher()?;
        let now = self.now();
        let store = lock(&self.store);
        let order = read_order(&store, order_id)?;
        let snap = Snapshot::read(&store)?;
        let refused = crate::app::refusal_view(&store, &DocId::Order(order_id.to_owned()))?;
        drop(store);
        let visits = snap.visits_of(order_id);
        let item = board::board_order(&order, &visits, &SlaPolicy::PUBLISHED, now);
        Ok(DispatchOrderView {
            card: board_card(&item),
            phone: order.customer.phone.clone(),
            notes: order.customer.notes.clone(),
            status_reason: order.status_reason.clone(),
            appliance: order.appliance().map(|a| known_appliance(a, now)),
            respond_by_ms: order.sla.respond_by_ms,
            arrive_by_ms: order.sla.arrive_by_ms,
            complete_by_ms: order.sla.complete_by_ms,
            transfers: order
                .transfers
                .iter()
                .map(|t| TransferView {
                    id: t.id.clone(),
                    from: t.from.clone(),
                    from_name: t.from.as_deref().map(|f| snap.name_of(f)),
                    to: t.to.clone(),
                    to_name: snap.name_of(&t.to),
                    reason: t.reason.clone(),
                    by: t.by.clone(),
                    at_ms: t.at_ms,
                })
                .collect(),
            refused,
            complaints: super::followups::order_complaints(&order, &snap, now),
        })
    }

    /// Every technician for `order_id`, with why they cannot be chosen; choosable first. Load
    /// counts their orders on the order's scheduled day (today when unscheduled).
    pub fn assignment_picker(&self, order_id: &str) -> Result<PickerView, AppError> {
        self.dispatcher()?;
        let now = self.now();
        let store = lock(&self.store);
        let order = read_order(&store, order_id)?;
        let snap = Snapshot::read(&store)?;
        drop(store);
        let at = order.schedule.map_or(now, |w| w.start_ms);
        let day = self.day(0, at);
        let rows = board::picker(&order, &snap.orders, &snap.technicians, day, now);
        let suggested = suggestions(&order, &snap, day, now);
        Ok(PickerView {
            order_id: order.order_id.clone(),
            order_no: order.order_no.clone(),
            rows: rows
                .iter()
                .map(|r| PickerRowView {
                    technician_id: r.technician.technician_id.clone(),
                    name: r.technician.name.clone(),
                    certificate_stars: r.technician.certificate_stars,
                    not_qualified: r.not_qualified,
                    current: r.current,
                    choosable: r.choosable(),
                    load: r.load,
                })
                .collect(),
            suggested,
        })
    }

    /// Customers on this device whose name, phone or address matches `query`: the registry's
    /// households first, then customers known only from their orders (appliances from the latest).
    pub fn find_customers(&self, query: &str) -> Result<Vec<CustomerMatch>, AppError> {
        self.dispatcher()?;
        let now = self.now();
        let store = lock(&self.store);
        // The registry first (phone in any spelling, name, address), best match first.
        let mut out: Vec<CustomerMatch> = Vec::new();
        for row in store.search_households(query, CUSTOMER_LIMIT)? {
            let h: Household = store.read(&DocId::Household(row.household_id))?;
            out.push(CustomerMatch {
                phone: h.phones.first().cloned().unwrap_or_default(),
                appliances: h
                    .appliances
                    .iter()
                    .map(|a| known_appliance(a, now))
                    .collect(),
                household_id: h.household_id,
                name: h.name,
                address: h.address,
                tier: h.tier,
                notes: h.notes,
            });
        }
        // Then customers only known from their orders (not in the registry on this device).
        for row in store.search_customers(query, CUSTOMER_LIMIT)? {
            if out.iter().any(|m| m.household_id == row.household_id) {
                continue;
            }
            let Some(latest) = store
                .household_history(&row.household_id)?
                .into_iter()
                .next()
            else {
                continue;
            };
            let order = read_order(&store, &latest.order.order_id)?;
            out.push(CustomerMatch {
                household_id: row.household_id,
                name: order.customer.name.clone(),
                phone: order.customer.phone.clone(),
                address: order.customer.address.clone(),
                tier: order.customer.tier,
                notes: order.customer.notes.clone(),
                appliances: order
                    .appliances
                    .iter()
                    .map(|a| known_appliance(a, now))
                    .collect(),
            });
        }
        Ok(out)
    }
}
