//! The effective status of an order, derived from the dispatcher's order and the technicians'
//! visits, and the contradictions between them. Contradictions are listed as [`Conflict`]s for a
//! dispatcher to review; they are never resolved silently by last-writer-wins.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::order::{DispatchStatus, Order};
use crate::progress::{self, ProgressKind};
use crate::record::{self, Verification};
use crate::visit::Visit;

/// What the order's lists show. Crosses to the UI as is (ts-rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum EffectiveStatus {
    Unassigned,
    Assigned,
    Accepted,
    EnRoute,
    OnSite,
    InProgress,
    WorkDone,
    Completed,
    OnHold,
    Cancelled,
}

impl EffectiveStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EffectiveStatus::Unassigned => "unassigned",
            EffectiveStatus::Assigned => "assigned",
            EffectiveStatus::Accepted => "accepted",
            EffectiveStatus::EnRoute => "en_route",
            EffectiveStatus::OnSite => "on_site",
            EffectiveStatus::InProgress => "in_progress",
            EffectiveStatus::WorkDone => "work_done",
            EffectiveStatus::Completed => "completed",
            EffectiveStatus::OnHold => "on_hold",
            EffectiveStatus::Cancelled => "cancelled",
        }
    }
}

/// A contradiction between order and visits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Conflict {
    /// The dispatcher cancelled, but the technician completed and the customer signed.
    CancelledButCompleted { technician_id: String },
    /// The dispatcher cancelled or put on hold while the technician was on site.
    StoppedWhileOnSite {
        technician_id: String,
        status: DispatchStatus,
    },
    /// The order was reassigned while the previous technician was on site (and not finished).
    ReassignedWhileOnSite {
        previous: String,
        current: Option<String>,
    },
    /// A technician who is no longer the assignee completed the job.
    CompletedByPreviousAssignee {
        technician_id: String,
        current: Option<String>,
    },
    /// More than one technician completed the same order.
    MultipleCompletions { technician_ids: Vec<String> },
    /// A signed record no longer matches its signature.
    ModifiedAfterSigning {
        technician_id: String,
        sections: Vec<String>,
    },
}

/// Which contradiction a [`Conflict`] is: the `code` tag it carries on the wire. A vocabulary of
/// its own (a conflict is a finding to review, not a refused request), so not an error
/// [`crate::Code`]; typed for the UI with ts-rs all the same.
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
pub enum ConflictKind {
    CancelledButCompleted,
    StoppedWhileOnSite,
    ReassignedWhileOnSite,
    CompletedByPreviousAssignee,
    MultipleCompletions,
    ModifiedAfterSigning,
}

impl ConflictKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictKind::CancelledButCompleted => "cancelled_but_completed",
            ConflictKind::StoppedWhileOnSite => "stopped_while_on_site",
            ConflictKind::ReassignedWhileOnSite => "reassigned_while_on_site",
            ConflictKind::CompletedByPreviousAssignee => "completed_by_previous_assignee",
            ConflictKind::MultipleCompletions => "multiple_completions",
            ConflictKind::ModifiedAfterSigning => "modified_after_signing",
        }
    }
}

impl PartialEq<&str> for ConflictKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Conflict {
    /// Which contradiction this is (the `code` tag of its JSON).
    pub fn code(&self) -> ConflictKind {
        match self {
            Conflict::CancelledButCompleted { .. } => ConflictKind::CancelledButCompleted,
            Conflict::StoppedWhileOnSite { .. } => ConflictKind::StoppedWhileOnSite,
            Conflict::ReassignedWhileOnSite { .. } => ConflictKind::ReassignedWhileOnSite,
            Conflict::CompletedByPreviousAssignee { .. } => {
                ConflictKind::CompletedByPreviousAssignee
            }
            Conflict::MultipleCompletions { .. } => ConflictKind::MultipleCompletions,
            Conflict::ModifiedAfterSigning { .. } => ConflictKind::ModifiedAfterSigning,
        }
    }
}

/// Effective status plus the conflicts to review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Derived {
    pub status: EffectiveStatus,
    pub conflicts: Vec<Conflict>,
}

fn on_site(stage: Option<ProgressKind>) -> bool {
    matches!(
        stage,
        Some(
            ProgressKind::Arrived
                | ProgressKind::WorkStarted
                | ProgressKind::WorkDone
                | ProgressKind::Reopened
        )
    )
}

/// Derive the status of `order` from its visits (any order of `visits` gives the same result).
pub fn derive<'a>(order: &Order, visits: impl IntoIterator<Item = &'a Visit>) -> Derived {
    let mut visits: Vec<&Visit> = visits
        .into_iter()
        .filter(|v| v.order_id == order.order_id)
        .collect();
    visits.sort_by(|a, b| a.technician_id.cmp(&b.technician_id));
    let assignee = order.assignee.as_deref();
    let mut conflicts = Vec::new();

    let signed: Vec<&Visit> = visits.iter().copied().filter(|v| v.is_signed()).collect();
    for v in &visits {
        let stage = progress::current(&v.events);
        let is_assignee = assignee == Some(v.technician_id.as_str());
        if v.is_signed() {
            if order.status == DispatchStatus::Cancelled {
                conflicts.push(Conflict::CancelledButCompleted {
                    technician_id: v.technician_id.clone(),
                });
            }
            if !is_assignee {
                conflicts.push(Conflict::CompletedByPreviousAssignee {
                    technician_id: v.technician_id.clone(),
                    current: order.assignee.clone(),
                });
            }
            if let Verification::ModifiedAfterSigning { sections, .. } = record::verify(order, v) {
                conflicts.push(Conflict::ModifiedAfterSigning {
                    technician_id: v.technician_id.clone(),
                    sections,
                });
            }
        } else if on_site(stage) {
            if order.status != DispatchStatus::Open {
                conflicts.push(Conflict::StoppedWhileOnSite {
                    technician_id: v.technician_id.clone(),
                    status: order.status,
                });
            }
            if !is_assignee {
                conflicts.push(Conflict::ReassignedWhileOnSite {
                    previous: v.technician_id.clone(),
                    current: order.assignee.clone(),
                });
            }
        }
    }
    if signed.len() > 1 {
        conflicts.push(Conflict::MultipleCompletions {
            technician_ids: signed.iter().map(|v| v.technician_id.clone()).collect(),
        });
    }

    let status = if !signed.is_empty() {
        EffectiveStatus::Completed
    } else {
        match order.status {
            DispatchStatus::Cancelled => EffectiveStatus::Cancelled,
            DispatchStatus::OnHold => EffectiveStatus::OnHold,
            DispatchStatus::Open => {
                let current = visits
                    .iter()
                    .find(|v| Some(v.technician_id.as_str()) == assignee)
                    .and_then(|v| progress::current(&v.events));
                match (assignee, current) {
                    (None, _) => EffectiveStatus::Unassigned,
                    (Some(_), None) => EffectiveStatus::Assigned,
                    (Some(_), Some(k)) => match k {
                        ProgressKind::Accepted => EffectiveStatus::Accepted,
                        ProgressKind::EnRoute => EffectiveStatus::EnRoute,
                        ProgressKind::Arrived => EffectiveStatus::OnSite,
                        ProgressKind::WorkStarted => EffectiveStatus::InProgress,
                        ProgressKind::WorkDone | ProgressKind::Reopened => {
                            EffectiveStatus::WorkDone
                        }
                        ProgressKind::Signed => EffectiveStatus::Completed,
                    },
                }
            }
        }
    };
    Derived { status, conflicts }
}
