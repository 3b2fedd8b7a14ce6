//! The console's Follow-ups screen (回访): the open follow-up calls after completions, most
//! urgent first, the answer of a call recorded on the order (`onsite_domain::followup::record`)
//! and the complaints it brought, resolved with a note. Dispatchers and admins only; every edit
//! is committed to the device store and synced like any other order edit, so every dispatcher
//! sees the same list.

use onsite_domain::followup::{self, Answer, Complaint};
use onsite_domain::order::Order;
use onsite_domain::service::ServiceSettings;
use onsite_domain::{DocId, DomainError, Millis};
use onsite_store::Store;

use super::dispatch_read::Snapshot;
use super::{App, lock, read_order};
use crate::error::AppError;
use crate::view::*;

/// The centre's service settings, or [`DomainError::ServiceSettingsMissing`].
pub(super) fn read_settings(store: &Store) -> Result<ServiceSettings, AppError> {
    if !store.contains(&DocId::ServiceSettings)? {
        return Err(DomainError::ServiceSettingsMissing.into());
    }
    Ok(store.read(&DocId::ServiceSettings)?)
}

fn complaint_view(order: &Order, c: &Complaint, snap: &Snapshot, now: Millis) -> ComplaintView {
    ComplaintView {
        order_id: order.order_id.clone(),
        order_no: order.order_no.clone(),
        complaint_id: c.id.clone(),
        technician_id: c.technician_id.clone(),
        technician_name: snap.name_of(&c.technician_id),
        customer_name: order.customer.name.clone(),
        phone: order.customer.phone.clone(),
        words: c.words.clone(),
        received_by: c.received_by.clone(),
        received_at_ms: c.received_at_ms,
        resolve_by_ms: c.resolve_by_ms,
        open: c.is_open(),
        overdue: c.is_open() && now > c.resolve_by_ms,
        resolution: c.resolution.as_ref().map(|r| ComplaintResolutionView {
            note: r.note.clone(),
            by: r.by.clone(),
            at_ms: r.at_ms,
            in_time: c.resolved_in_time(),
        }),
    }
}

/// The complaints of one order, open first (the console's order detail).
pub(super) fn order_complaints(order: &Order, snap: &Snapshot, now: Millis) -> Vec<ComplaintView> {
    followup::complaints(std::slice::from_ref(order))
        .into_iter()
        .map(|(o, c)| complaint_view(o, c, snap, now))
        .collect()
}

fn follow_up_view(f: &followup::FollowUp, snap: &Snapshot, now: Millis) -> Option<FollowUpView> {
    let order = snap.orders.iter().find(|o| o.order_id == f.order_id)?;
    Some(FollowUpView {
        order_id: f.order_id.clone(),
        order_no: order.order_no.clone(),
        technician_id: f.technician_id.clone(),
        technician_name: snap.name_of(&f.technician_id),
        customer_name: order.customer.name.clone(),
        phone: order.customer.phone.clone(),
        signed_at_ms: f.signed_at_ms,
        due_at_ms: f.due_at_ms,
        overdue: f.overdue(now),
        attempts: f.attempts,
        last_call_at_ms: f.last_call_at_ms,
    })
}

impl App {
    /// The open follow-up calls, most urgent first, and every complaint, open first.
    pub fn follow_ups(&self) -> Result<FollowUpsView, AppError> {
        self.dispatcher()?;
        let now = self.now();
        let store = lock(&self.store);
        let settings = read_settings(&store)?;
        let snap = Snapshot::read(&store)?;
        drop(store);
        let follow_ups: Vec<FollowUpView> = followup::open(&snap.orders, &snap.visits, &settings)
            .iter()
            .filter_map(|f| follow_up_view(f, &snap, now))
            .collect();
        let complaints: Vec<ComplaintView> = followup::complaints(&snap.orders)
            .into_iter()
            .map(|(o, c)| complaint_view(o, c, &snap, now))
            .collect();
        Ok(FollowUpsView {
            overdue: follow_ups.iter().filter(|f| f.overdue).count() as u32,
            open_complaints: complaints.iter().filter(|c| c.open).count() as u32,
            follow_ups,
            complaints,
        })
    }

    /// Record the answer of a follow-up call on the order: satisfied, a complaint with the
    /// customer's words, or no answer (the call stays open, due again later).
    pub fn record_follow_up(&self, req: FollowUpAnswerRequest) -> Result<FollowUpsView, AppError> {
        let by = self.dispatcher()?;
        let now = self.now();
        let id = (self.new_id)();
        {
            let mut store = lock(&self.store);
            read_order(&store, &req.order_id)?;
            let settings = read_settings(&store)?;
            let snap = Snapshot::read(&store)?;
            let visits: Vec<_> = snap.visits_of(&req.order_id).into_iter().cloned().collect();
            let answer = Answer {
                call_id: format!("call-{id}"),
                complaint_id: format!("complaint-{id}"),
                technician_id: req.technician_id,
                outcome: req.outcome,
                words: req.words,
            };
            store.update(&DocId::Order(req.order_id.clone()), |o: &mut Order| {
                followup::record(o, &visits, &settings, answer, &by, now)
            })?;
        }
        self.nudge();
        self.follow_ups()
    }

    /// Resolve an open complaint with a note saying what was done.
    pub fn resolve_complaint(
        &self,
        req: ResolveComplaintRequest,
    ) -> Result<FollowUpsView, AppError> {
        let by = self.dispatcher()?;
        let now = self.now();
        {
            let mut store = lock(&self.store);
            read_order(&store, &req.order_id)?;
            store.update(&DocId::Order(req.order_id.clone()), |o: &mut Order| {
                followup::resolve_complaint(o, &req.complaint_id, &req.note, &by, now)
            })?;
        }
        self.nudge();
        self.follow_ups()
    }
}
