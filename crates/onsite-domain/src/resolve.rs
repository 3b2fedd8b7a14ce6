//! The conflict review queue's decisions. A dispatcher resolves a conflict that
//! [`crate::status::derive`] finds with one of the typed [`Choice`]s its kind allows; the decision
//! is a domain operation on the [`Order`] (reopen through [`Order::set_status`], give back through
//! [`Order::assign`] with its qualification check and transfer history) and is recorded on the
//! order as a [`Resolution`] (who, when, which action, a required note).
//!
//! Deciding to keep things as they are (keep cancelled, keep the reassignment, acknowledge a
//! record modified after signing, …) leaves the conflict derived: the resolution *covers* it, so
//! the queue lists it as resolved, not open. Deciding to change the order (accept, resume, give
//! back) makes the conflict disappear from the derivation; the queue keeps listing the resolution
//! as resolved history, and if the same contradiction arises again it is open again. Nothing here
//! hides evidence: a record's verification state is never changed by a resolution.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::order::{DispatchStatus, Order};
use crate::reference::TechnicianProfile;
use crate::status::{self, Conflict, ConflictKind};
use crate::visit::Visit;
use crate::{DomainError, Millis};

/// What a dispatcher decides about a conflict. Crosses to the UI as is (ts-rs).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Reconcile,
    Hydrate,
    Serialize,
    Deserialize,
    TS,
)]
#[serde(rename_all = "snake_case")]
pub enum ResolutionAction {
    /// Cancelled but completed: reopen the order, so the signed record is its completion.
    /// Completed by the previous assignee: assign the order to the technician who completed it.
    AcceptCompletion,
    /// Cancelled but completed: the order stays cancelled; the signed record stays as evidence.
    KeepCancelled,
    /// Stopped while on site: reopen the order, so the technician carries on.
    Resume,
    /// Stopped while on site: the order stays on hold or cancelled.
    KeepStopped,
    /// Reassigned while on site: assign the order back to the technician on site.
    GiveBack,
    /// Reassigned while on site: the new assignee keeps the order.
    KeepReassignment,
    /// Completed by the previous assignee: the current assignee keeps the order.
    KeepAssignee,
    /// Multiple completions: this technician's signed record counts (the order becomes theirs).
    ChooseCompletion,
    /// Modified after signing: seen. The record keeps failing verification; that is evidence.
    Acknowledge,
}

impl ResolutionAction {
    /// A decision to keep the order as it is: the conflict stays derived and the resolution
    /// covers it. The others change the order so the conflict is no longer derived.
    pub fn keeps_order(self) -> bool {
        !matches!(
            self,
            ResolutionAction::AcceptCompletion
                | ResolutionAction::Resume
                | ResolutionAction::GiveBack
        )
    }
}

/// One action a conflict allows, with the technician it concerns (the one whose completion is
/// accepted or chosen, the one the order goes back to), if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Choice {
    pub action: ResolutionAction,
    pub technician_id: Option<String>,
}

impl Choice {
    fn new(action: ResolutionAction, technician_id: Option<&String>) -> Choice {
        Choice {
            action,
            technician_id: technician_id.cloned(),
        }
    }
}

/// A dispatcher's decision on one conflict, recorded on the order (`Order::resolutions`).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Resolution {
    #[key]
    pub id: String,
    /// The conflict decided on ([`Conflict::key`]).
    pub conflict: String,
    pub kind: ConflictKind,
    /// The technicians the conflict concerned ([`Conflict::technicians`]).
    pub technicians: Vec<String>,
    pub action: ResolutionAction,
    /// The technician the action concerned ([`Choice::technician_id`]).
    pub technician_id: Option<String>,
    /// Why: required, shown to the technicians concerned.
    pub note: String,
    pub by: String,
    pub at_ms: Millis,
}

impl Resolution {
    /// Whether this decision settles `c`, a conflict derived now: a decision to keep the order as
    /// it is settles exactly the conflict it was taken on; choosing one of several completions
    /// also settles the others' "completed by the previous assignee" while the chosen
    /// technician stays the assignee.
    pub fn covers(&self, c: &Conflict) -> bool {
        if !self.action.keeps_order() {
            return false;
        }
        if self.conflict == c.key() {
            return true;
        }
        match c {
            Conflict::CompletedByPreviousAssignee {
                technician_id,
                current,
            } => {
                self.action == ResolutionAction::ChooseCompletion
                    && self.technicians.contains(technician_id)
                    && current.is_some()
                    && *current == self.technician_id
            }
            _ => false,
        }
    }
}

fn status_text(s: DispatchStatus) -> &'static str {
    match s {
        DispatchStatus::Open => "open",
        DispatchStatus::OnHold => "on_hold",
        DispatchStatus::Cancelled => "cancelled",
    }
}

impl Conflict {
    /// The conflict's identity: its kind and every fact it carries. The same contradiction gives
    /// the same key; a changed fact (another assignee, another section changed) gives another.
    pub fn key(&self) -> String {
        let none = || "-".to_owned();
        let facts: Vec<String> = match self {
            Conflict::CancelledButCompleted { technician_id } => vec![technician_id.clone()],
            Conflict::StoppedWhileOnSite {
                technician_id,
                status,
            } => vec![technician_id.clone(), status_text(*status).to_owned()],
            Conflict::ReassignedWhileOnSite { previous, current } => {
                vec![previous.clone(), current.clone().unwrap_or_else(none)]
            }
            Conflict::CompletedByPreviousAssignee {
                technician_id,
                current,
            } => vec![technician_id.clone(), current.clone().unwrap_or_else(none)],
            Conflict::MultipleCompletions { technician_ids } => vec![technician_ids.join(",")],
            Conflict::ModifiedAfterSigning {
                technician_id,
                sections,
            } => vec![technician_id.clone(), sections.join(",")],
        };
        format!("{}|{}", self.code().as_str(), facts.join("|"))
    }

    /// The technicians the conflict concerns (whose visit it is about).
    pub fn technicians(&self) -> Vec<String> {
        match self {
            Conflict::CancelledButCompleted { technician_id }
            | Conflict::StoppedWhileOnSite { technician_id, .. }
            | Conflict::CompletedByPreviousAssignee { technician_id, .. }
            | Conflict::ModifiedAfterSigning { technician_id, .. } => vec![technician_id.clone()],
            Conflict::ReassignedWhileOnSite { previous, .. } => vec![previous.clone()],
            Conflict::MultipleCompletions { technician_ids } => technician_ids.clone(),
        }
    }

    /// The actions that resolve this conflict.
    pub fn choices(&self) -> Vec<Choice> {
        use ResolutionAction as A;
        match self {
            Conflict::CancelledButCompleted { technician_id } => vec![
                Choice::new(A::AcceptCompletion, Some(technician_id)),
                Choice::new(A::KeepCancelled, None),
            ],
            Conflict::StoppedWhileOnSite { .. } => vec![
                Choice::new(A::Resume, None),
                Choice::new(A::KeepStopped, None),
            ],
            Conflict::ReassignedWhileOnSite { previous, .. } => vec![
                Choice::new(A::GiveBack, Some(previous)),
                Choice::new(A::KeepReassignment, None),
            ],
            Conflict::CompletedByPreviousAssignee { technician_id, .. } => vec![
                Choice::new(A::AcceptCompletion, Some(technician_id)),
                Choice::new(A::KeepAssignee, None),
            ],
            Conflict::MultipleCompletions { technician_ids } => technician_ids
                .iter()
                .map(|t| Choice::new(A::ChooseCompletion, Some(t)))
                .collect(),
            Conflict::ModifiedAfterSigning { .. } => vec![Choice::new(A::Acknowledge, None)],
        }
    }
}

/// One item of the review queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// [`Conflict::key`].
    pub key: String,
    pub kind: ConflictKind,
    pub technicians: Vec<String>,
    /// The conflict as derived now; `None` for a resolution whose conflict is no longer derived.
    pub conflict: Option<Conflict>,
    /// The decision, if one was taken.
    pub resolution: Option<Resolution>,
    /// What the dispatcher may do: the conflict's choices while open, nothing once resolved.
    pub allowed: Vec<Choice>,
}

impl Entry {
    /// Open: waiting for a decision (what the console counts).
    pub fn is_open(&self) -> bool {
        self.resolution.is_none()
    }
}

/// The review queue of `order` given the conflicts derived now (`status::derive`): every derived
/// conflict, open or covered by a decision (the latest), then every decision that covers none of
/// them (resolved history), oldest first.
pub fn review(order: &Order, derived: &[Conflict]) -> Vec<Entry> {
    let mut used = vec![false; order.resolutions.len()];
    let mut out: Vec<Entry> = Vec::new();
    for c in derived {
        let found = order
            .resolutions
            .iter()
            .enumerate()
            .rev()
            .find(|(_, r)| r.covers(c));
        if let Some((i, _)) = found {
            used[i] = true;
        }
        let resolution = found.map(|(_, r)| r.clone());
        out.push(Entry {
            key: c.key(),
            kind: c.code(),
            technicians: c.technicians(),
            allowed: if resolution.is_none() {
                c.choices()
            } else {
                Vec::new()
            },
            conflict: Some(c.clone()),
            resolution,
        });
    }
    for (r, _) in order.resolutions.iter().zip(used).filter(|(_, u)| !u) {
        out.push(Entry {
            key: r.conflict.clone(),
            kind: r.kind,
            technicians: r.technicians.clone(),
            conflict: None,
            resolution: Some(r.clone()),
            allowed: Vec::new(),
        });
    }
    out
}

/// What the dispatcher asks for: a decision on the conflict `conflict` ([`Conflict::key`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub conflict: String,
    pub choice: Choice,
    pub note: String,
}

/// Who decides, when, and the fresh ids the decision may need.
#[derive(Debug, Clone, Copy)]
pub struct Stamp<'a> {
    pub resolution_id: &'a str,
    /// The id of the transfer when the decision assigns the order.
    pub transfer_id: &'a str,
    pub by: &'a str,
    pub now: Millis,
}

/// Resolve one open conflict of `order` (derived from `visits`) as `req` asks. Refused, with
/// nothing changed, when the conflict is not derived on the order (or no longer), is already
/// resolved, the choice is not one the conflict allows, the note is empty, or the order's own
/// rule refuses the operation (e.g. the technician the order goes back to no longer qualifies).
pub fn resolve<'a>(
    order: &mut Order,
    visits: impl IntoIterator<Item = &'a Visit>,
    technicians: &[TechnicianProfile],
    req: &Request,
    stamp: Stamp<'_>,
) -> Result<Resolution, DomainError> {
    let derived = status::derive(order, visits).conflicts;
    let conflict = derived
        .iter()
        .find(|c| c.key() == req.conflict)
        .ok_or_else(|| DomainError::ConflictNotFound(req.conflict.clone()))?;
    if order.resolutions.iter().any(|r| r.covers(conflict)) {
        return Err(DomainError::ConflictResolved(req.conflict.clone()));
    }
    if !conflict.choices().contains(&req.choice) {
        return Err(DomainError::ActionNotAllowed {
            kind: conflict.code(),
            action: req.choice.action,
        });
    }
    let note = req.note.trim();
    if note.is_empty() {
        return Err(DomainError::Empty {
            what: "note on the decision",
        });
    }
    if order
        .resolutions
        .iter()
        .any(|r| r.id == stamp.resolution_id)
    {
        return Err(DomainError::DuplicateId(stamp.resolution_id.to_owned()));
    }
    let mut next = order.clone();
    apply(&mut next, conflict, &req.choice, technicians, note, stamp)?;
    let resolution = Resolution {
        id: stamp.resolution_id.to_owned(),
        conflict: req.conflict.clone(),
        kind: conflict.code(),
        technicians: conflict.technicians(),
        action: req.choice.action,
        technician_id: req.choice.technician_id.clone(),
        note: note.to_owned(),
        by: stamp.by.to_owned(),
        at_ms: stamp.now,
    };
    next.resolutions.push(resolution.clone());
    *order = next;
    Ok(resolution)
}

/// The operation on the order a choice stands for.
fn apply(
    order: &mut Order,
    conflict: &Conflict,
    choice: &Choice,
    technicians: &[TechnicianProfile],
    note: &str,
    stamp: Stamp<'_>,
) -> Result<(), DomainError> {
    use ResolutionAction as A;
    let to = choice.technician_id.as_deref();
    match (choice.action, conflict) {
        (A::AcceptCompletion, Conflict::CancelledButCompleted { .. }) | (A::Resume, _) => {
            order.set_status(DispatchStatus::Open, note, stamp.now)
        }
        (A::AcceptCompletion | A::GiveBack | A::ChooseCompletion, _) => match to {
            Some(t) if order.assignee.as_deref() == Some(t) => Ok(()),
            Some(t) => {
                let profile = technicians
                    .iter()
                    .find(|p| p.technician_id == t)
                    .ok_or_else(|| DomainError::UnknownTechnician(t.to_owned()))?;
                order.assign(stamp.transfer_id, profile, note, stamp.by, stamp.now)
            }
            None => Err(DomainError::ActionNotAllowed {
                kind: conflict.code(),
                action: choice.action,
            }),
        },
        _ => Ok(()),
    }
}
