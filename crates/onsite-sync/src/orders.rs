//! The relay's own rules on incoming `order:` documents, applied to a request as a whole after
//! every message was applied to its in-memory copy and before anything is committed:
//!
//! - a forged assignment is refused (ISO 9001 §7.5.2 b): when a change gives the order a new
//!   assignee (or adds a transfer), the assignee's `profile:` — from the same request if it
//!   carries one, else from the relay's store — must qualify them for the order's service type at
//!   relay time ([`TechnicianProfile::not_qualified_for`]); no profile at all does not qualify;
//! - an order is assigned within its service centre: an assignee the relay knows as a member of
//!   another centre is refused (tenancy);
//! - an order number is used by one order only: a new order, or one whose number changed, is
//!   refused when another stored order (or another order of the same request) has that number.
//!
//! A refused document is refused whole ([`DocRejection`]); the rest of the request proceeds.

use std::collections::BTreeMap;

use onsite_domain::order::Order;
use onsite_domain::reference::{NotQualified, TechnicianProfile};
use onsite_domain::{DocId, Millis};
use onsite_wire::{Code, DocRejection};

use crate::relay::DocStore;

/// An order document of the request: as stored before it (`None` when new) and after it.
#[derive(Debug, Clone)]
pub struct OrderChange {
    pub doc: DocId,
    pub before: Option<Order>,
    pub after: Order,
    /// The centre the order belongs to ([`crate::relay::DocMeta::centre`]).
    pub centre: Option<String>,
}

/// The technician `after` newly assigns, if the change assigns anyone new: the assignee differs
/// from the stored one, or a transfer was added.
pub fn newly_assigned<'a>(before: Option<&Order>, after: &'a Order) -> Option<&'a str> {
    let assignee = after.assignee.as_deref()?;
    let Some(before) = before else {
        return Some(assignee);
    };
    let transfer_added = after
        .transfers
        .iter()
        .any(|t| !before.transfers.iter().any(|b| b.id == t.id));
    (before.assignee.as_deref() != Some(assignee) || transfer_added).then_some(assignee)
}

/// Why `technician` may not be assigned `order` at `now`, in words; `None` when they may.
pub fn assignment_refusal(
    order: &Order,
    technician: &str,
    profile: Option<&TechnicianProfile>,
    now: Millis,
) -> Option<String> {
    let service = order.service_type.label().en;
    let why = match profile.map(|p| p.not_qualified_for(order.service_type, now)) {
        None => "has no technician profile on the relay".to_owned(),
        Some(None) => return None,
        Some(Some(NotQualified::NotCovered)) => {
            format!("is not qualified for {service}")
        }
        Some(Some(NotQualified::CertificateExpired)) => "has an expired certificate".to_owned(),
        Some(Some(NotQualified::CertificateWithdrawn)) => "has a withdrawn certificate".to_owned(),
    };
    Some(format!(
        "order {} ({}) cannot be assigned to '{technician}', who {why} (ISO 9001 §7.5.2 b); nothing of it was stored — assign a qualified technician on the device",
        order.order_no, order.order_id
    ))
}

/// The refusals of the relay's order rules for a request: `orders` are its accepted order
/// documents, `request_profiles` the technician profiles it carries (as they will be stored).
pub fn refusals<S: DocStore>(
    store: &mut S,
    orders: &[OrderChange],
    request_profiles: &BTreeMap<String, TechnicianProfile>,
    now: Millis,
) -> Result<Vec<DocRejection>, S::Error> {
    let mut refused = Vec::new();
    let mut numbers: BTreeMap<&str, &DocId> = BTreeMap::new();
    for c in orders {
        if let Some(message) = assignment(store, c, request_profiles, now)? {
            refused.push(rejection(&c.doc, Code::AssignmentNotQualified, message));
            continue;
        }
        if let Some(message) = other_centre(store, c)? {
            refused.push(rejection(&c.doc, Code::AssignmentOtherCentre, message));
            continue;
        }
        let no = c.after.order_no.as_str();
        let renumbered = c.before.as_ref().is_none_or(|b| b.order_no != no);
        if renumbered {
            let taken = match numbers.get(no) {
                Some(other) => Some((*other).clone()),
                None => store.orders_numbered(no)?.into_iter().find(|d| *d != c.doc),
            };
            if let Some(other) = taken {
                refused.push(rejection(
                    &c.doc,
                    Code::OrderDuplicateNumber,
                    format!(
                        "order number {no} is already used by '{other}'; nothing of '{}' was stored — give the order a new number on the device",
                        c.doc
                    ),
                ));
                continue;
            }
        }
        numbers.insert(no, &c.doc);
    }
    Ok(refused)
}

/// The assignment check for one order change: the refusal message, if refused.
fn assignment<S: DocStore>(
    store: &mut S,
    c: &OrderChange,
    request_profiles: &BTreeMap<String, TechnicianProfile>,
    now: Millis,
) -> Result<Option<String>, S::Error> {
    let Some(tech) = newly_assigned(c.before.as_ref(), &c.after) else {
        return Ok(None);
    };
    let profile = match request_profiles.get(tech) {
        Some(p) => Some(p.clone()),
        None => {
            crate::admit::stored::<S, TechnicianProfile>(store, &DocId::Profile(tech.to_owned()))?
        }
    };
    Ok(assignment_refusal(&c.after, tech, profile.as_ref(), now))
}

/// The refusal message when the order's new assignee belongs to another centre than the order.
fn other_centre<S: DocStore>(store: &mut S, c: &OrderChange) -> Result<Option<String>, S::Error> {
    let Some(tech) = newly_assigned(c.before.as_ref(), &c.after) else {
        return Ok(None);
    };
    let Some(theirs) = store.user_centre(tech)? else {
        return Ok(None);
    };
    Ok((c.centre.as_deref() != Some(theirs.as_str())).then(|| {
        format!(
            "order {} belongs to service centre '{}' and cannot be assigned to '{tech}' of centre '{theirs}'; nothing of it was stored — assign a technician of the order's centre, or ask an admin to move the work",
            c.after.order_no,
            c.centre.as_deref().unwrap_or("-")
        )
    }))
}

fn rejection(doc: &DocId, code: Code, message: String) -> DocRejection {
    DocRejection {
        doc: doc.clone(),
        code,
        message,
    }
}
