//! Follow-up calls (回访) and complaints. Every completion (a signed visit, as
//! [`stats::completions`] defines it) signed since the settings' `follow_ups_from_ms` gives the
//! dispatchers a call to make, due `follow_up_within_hours` after the signature. The answer is
//! recorded on the order (dispatcher-owned, so every dispatcher sees the same list):
//! satisfied or a complaint close the follow-up; no answer leaves it open, counts the attempt and
//! makes the next try due `follow_up_retry_hours` after that call. A complaint, with the
//! customer's words, becomes a tracked item on the order, open until a dispatcher resolves it
//! with a note, to be resolved by `complaint_resolve_hours` after it was received (the deadline
//! is kept on the complaint, so later settings never rewrite it).
//!
//! Calls and complaints are keyed list items, so two dispatchers recording offline both keep
//! theirs; the follow-up is answered by the earliest closing call.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::order::Order;
use crate::service::ServiceSettings;
use crate::stats::{self, Completion};
use crate::visit::Visit;
use crate::{DomainError, Millis};

/// What came of one follow-up call.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize, TS,
)]
pub enum CallOutcome {
    Satisfied,
    Complaint,
    NoAnswer,
}

/// One follow-up call, recorded on the order.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct FollowUpCall {
    #[key]
    pub id: String,
    /// Whose completion the call is about (one visit per technician and order).
    pub technician_id: String,
    pub outcome: CallOutcome,
    /// What the customer said (required for a complaint).
    pub words: String,
    pub by: String,
    pub at_ms: Millis,
}

/// How a complaint was resolved.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct ComplaintResolution {
    pub note: String,
    pub by: String,
    pub at_ms: Millis,
}

/// A complaint tracked on the order.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Complaint {
    #[key]
    pub id: String,
    pub technician_id: String,
    /// The customer's words.
    pub words: String,
    pub received_by: String,
    pub received_at_ms: Millis,
    /// To be resolved by then (received + the settings' complaint time).
    pub resolve_by_ms: Millis,
    pub resolution: Option<ComplaintResolution>,
}

impl Complaint {
    pub fn is_open(&self) -> bool {
        self.resolution.is_none()
    }

    /// Resolved, and no later than its deadline.
    pub fn resolved_in_time(&self) -> bool {
        self.resolution
            .as_ref()
            .is_some_and(|r| r.at_ms <= self.resolve_by_ms)
    }
}

/// Where a follow-up stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
pub enum FollowUpState {
    Open,
    Satisfied,
    Complaint,
}

/// The follow-up of one completion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    pub order_id: String,
    pub technician_id: String,
    pub signed_at_ms: Millis,
    /// When the next call is due: the first within the window after the signature, a retry
    /// after the last unanswered call.
    pub due_at_ms: Millis,
    /// Unanswered calls so far.
    pub attempts: u32,
    pub last_call_at_ms: Option<Millis>,
    pub state: FollowUpState,
    /// The call that closed it (satisfied or complaint).
    pub answered_by: Option<String>,
    pub answered_at_ms: Option<Millis>,
}

impl FollowUp {
    pub fn is_open(&self) -> bool {
        self.state == FollowUpState::Open
    }

    /// Open and past its due time.
    pub fn overdue(&self, now: Millis) -> bool {
        self.is_open() && now > self.due_at_ms
    }
}

/// The follow-up of a completion signed at `signed_at_ms`, from the calls on its order.
pub fn follow_up(
    order: &Order,
    technician_id: &str,
    signed_at_ms: Millis,
    settings: &ServiceSettings,
) -> FollowUp {
    let mut calls: Vec<&FollowUpCall> = order
        .follow_ups
        .iter()
        .filter(|c| c.technician_id == technician_id)
        .collect();
    calls.sort_by(|a, b| a.at_ms.cmp(&b.at_ms).then_with(|| a.id.cmp(&b.id)));
    let closing = calls.iter().find(|c| c.outcome != CallOutcome::NoAnswer);
    let unanswered: Vec<&&FollowUpCall> = calls
        .iter()
        .filter(|c| c.outcome == CallOutcome::NoAnswer)
        .collect();
    let last = unanswered.last().map(|c| c.at_ms);
    FollowUp {
        order_id: order.order_id.clone(),
        technician_id: technician_id.to_owned(),
        signed_at_ms,
        due_at_ms: match last {
            Some(at) => at + settings.follow_up_retry_ms(),
            None => signed_at_ms + settings.follow_up_within_ms(),
        },
        attempts: unanswered.len() as u32,
        last_call_at_ms: calls.last().map(|c| c.at_ms),
        state: match closing.map(|c| c.outcome) {
            Some(CallOutcome::Satisfied) => FollowUpState::Satisfied,
            Some(_) => FollowUpState::Complaint,
            None => FollowUpState::Open,
        },
        answered_by: closing.map(|c| c.by.clone()),
        answered_at_ms: closing.map(|c| c.at_ms),
    }
}

fn of_completion(c: &Completion<'_>, settings: &ServiceSettings) -> Option<FollowUp> {
    (c.signed_at_ms >= settings.follow_ups_from_ms)
        .then(|| follow_up(c.order, &c.visit.technician_id, c.signed_at_ms, settings))
}

/// Every follow-up (open and answered) of the completions among `orders` and `visits`.
pub fn follow_ups(orders: &[Order], visits: &[Visit], settings: &ServiceSettings) -> Vec<FollowUp> {
    stats::completions(orders, visits)
        .iter()
        .filter_map(|c| of_completion(c, settings))
        .collect()
}

/// The open follow-ups, the most urgent first (due time, then order and technician).
pub fn open(orders: &[Order], visits: &[Visit], settings: &ServiceSettings) -> Vec<FollowUp> {
    let mut out: Vec<FollowUp> = follow_ups(orders, visits, settings)
        .into_iter()
        .filter(FollowUp::is_open)
        .collect();
    out.sort_by(|a, b| {
        a.due_at_ms
            .cmp(&b.due_at_ms)
            .then_with(|| a.order_id.cmp(&b.order_id))
            .then_with(|| a.technician_id.cmp(&b.technician_id))
    });
    out
}

/// What the dispatcher records after a call. `complaint_id` names the complaint a
/// [`CallOutcome::Complaint`] creates.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub call_id: String,
    pub complaint_id: String,
    pub technician_id: String,
    pub outcome: CallOutcome,
    pub words: String,
}

/// Record a call's answer on `order`. Refused, with nothing changed, when the technician has no
/// signed visit on the order (or one signed before follow-ups started), the follow-up is already
/// answered, or a complaint comes without the customer's words.
pub fn record(
    order: &mut Order,
    visits: &[Visit],
    settings: &ServiceSettings,
    answer: Answer,
    by: &str,
    now: Millis,
) -> Result<(), DomainError> {
    let not_found = || DomainError::FollowUpNotFound {
        order_id: order.order_id.clone(),
        technician_id: answer.technician_id.clone(),
    };
    let signed_at = visits
        .iter()
        .find(|v| v.order_id == order.order_id && v.technician_id == answer.technician_id)
        .and_then(|v| v.signature.as_ref())
        .map(|s| s.signed_at_ms)
        .filter(|&at| at >= settings.follow_ups_from_ms)
        .ok_or_else(not_found)?;
    if !follow_up(order, &answer.technician_id, signed_at, settings).is_open() {
        return Err(DomainError::FollowUpAnswered(order.order_no.clone()));
    }
    let words = answer.words.trim().to_owned();
    if answer.outcome == CallOutcome::Complaint && words.is_empty() {
        return Err(DomainError::ComplaintWordsRequired);
    }
    for id in [&answer.call_id, &answer.complaint_id] {
        if order.follow_ups.iter().any(|c| &c.id == id)
            || order.complaints.iter().any(|c| &c.id == id)
        {
            return Err(DomainError::DuplicateId(id.clone()));
        }
    }
    if answer.outcome == CallOutcome::Complaint {
        order.complaints.push(Complaint {
            id: answer.complaint_id,
            technician_id: answer.technician_id.clone(),
            words: words.clone(),
            received_by: by.to_owned(),
            received_at_ms: now,
            resolve_by_ms: now + settings.complaint_resolve_ms(),
            resolution: None,
        });
    }
    order.follow_ups.push(FollowUpCall {
        id: answer.call_id,
        technician_id: answer.technician_id,
        outcome: answer.outcome,
        words,
        by: by.to_owned(),
        at_ms: now,
    });
    Ok(())
}

/// Resolve an open complaint of `order` with a note saying what was done.
pub fn resolve_complaint(
    order: &mut Order,
    complaint_id: &str,
    note: &str,
    by: &str,
    now: Millis,
) -> Result<(), DomainError> {
    let note = note.trim();
    let complaint = order
        .complaints
        .iter_mut()
        .find(|c| c.id == complaint_id)
        .ok_or_else(|| DomainError::ComplaintNotFound(complaint_id.to_owned()))?;
    if !complaint.is_open() {
        return Err(DomainError::ComplaintResolved(complaint_id.to_owned()));
    }
    if note.is_empty() {
        return Err(DomainError::ComplaintNoteRequired);
    }
    complaint.resolution = Some(ComplaintResolution {
        note: note.to_owned(),
        by: by.to_owned(),
        at_ms: now,
    });
    Ok(())
}

/// Every complaint on `orders` with its order: open first, then by receipt, oldest first.
pub fn complaints(orders: &[Order]) -> Vec<(&Order, &Complaint)> {
    let mut out: Vec<(&Order, &Complaint)> = orders
        .iter()
        .flat_map(|o| o.complaints.iter().map(move |c| (o, c)))
        .collect();
    out.sort_by(|(oa, a), (ob, b)| {
        b.is_open()
            .cmp(&a.is_open())
            .then_with(|| a.received_at_ms.cmp(&b.received_at_ms))
            .then_with(|| oa.order_no.cmp(&ob.order_no))
            .then_with(|| a.id.cmp(&b.id))
    });
    out
}
