//! What a commit tells the systems around the relay, derived from the committed documents with
//! the domain's own rules: the export's record snapshots (`onsite_domain::record`) and the
//! webhook events (`onsite_domain::status`: effective status and conflicts). Pure: the storage
//! calls [`derive`] for every order a commit touched, in the commit's transaction, and keeps the
//! returned [`Facts`] for the next commit, so an event fires once, when its fact first holds.

use std::collections::BTreeSet;

use onsite_domain::order::Order;
use onsite_domain::record::{self, SignatureFacts, Verification};
use onsite_domain::status::{self, EffectiveStatus};
use onsite_domain::visit::{Signature, Visit};
use onsite_domain::{DocId, Millis};
use onsite_wire::back_office::{EventPayload, ExportedAppliance, ExportedRecord, RecordState};
use serde::{Deserialize, Serialize};

/// What the relay last knew about an order, to tell what changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    pub status: Option<EffectiveStatus>,
    /// (technician, record hash) of every current signature.
    pub signatures: BTreeSet<(String, String)>,
    /// Every current conflict, as its JSON (a conflict that changes is a new one).
    pub conflicts: BTreeSet<String>,
}

/// One event to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct Happened {
    pub what: EventPayload,
    pub occurred_at_ms: Millis,
}

/// What one order says after a commit.
#[derive(Debug, Clone, PartialEq)]
pub struct Outward {
    pub facts: Facts,
    /// Events in the order they happened: signatures, then completion, cancellation, conflicts.
    pub events: Vec<Happened>,
    /// The record of every visit that is or was signed.
    pub records: Vec<ExportedRecord>,
}

/// The facts, events (against `before`) and records of `order` with `visits`, as committed at
/// `committed_at_ms`.
pub fn derive(before: &Facts, order: &Order, visits: &[Visit], committed_at_ms: Millis) -> Outward {
    let derived = status::derive(order, visits);
    let mut signed: Vec<(&Visit, &Signature)> = visits
        .iter()
        .filter(|v| v.order_id == order.order_id)
        .filter_map(|v| v.signature.as_ref().map(|s| (v, s)))
        .collect();
    signed.sort_by(|a, b| {
        (a.1.signed_at_ms, &a.0.technician_id).cmp(&(b.1.signed_at_ms, &b.0.technician_id))
    });
    let facts = Facts {
        status: Some(derived.status),
        signatures: signed
            .iter()
            .map(|(v, s)| (v.technician_id.clone(), s.record_hash.clone()))
            .collect(),
        conflicts: derived
            .conflicts
            .iter()
            .map(|c| serde_json::to_string(c).expect("a conflict serialises"))
            .collect(),
    };
    let mut events = Vec::new();
    for (v, s) in &signed {
        if !before
            .signatures
            .contains(&(v.technician_id.clone(), s.record_hash.clone()))
        {
            events.push(Happened {
                what: EventPayload::RecordSigned {
                    technician_id: v.technician_id.clone(),
                    record_hash: s.record_hash.clone(),
                    signer_name: s.signer_name.clone(),
                },
                occurred_at_ms: s.signed_at_ms,
            });
        }
    }
    let became = |s: EffectiveStatus| facts.status == Some(s) && before.status != Some(s);
    if became(EffectiveStatus::Completed)
        && let Some((v, s)) = signed.first()
    {
        events.push(Happened {
            what: EventPayload::OrderCompleted {
                technician_id: v.technician_id.clone(),
                record_hash: s.record_hash.clone(),
            },
            occurred_at_ms: s.signed_at_ms,
        });
    }
    if became(EffectiveStatus::Cancelled) {
        events.push(Happened {
            what: EventPayload::OrderCancelled {
                reason: order.status_reason.clone(),
            },
            occurred_at_ms: order.status_changed_at_ms,
        });
    }
    for c in &derived.conflicts {
        let json = serde_json::to_string(c).expect("a conflict serialises");
        if !before.conflicts.contains(&json) {
            events.push(Happened {
                what: EventPayload::OrderConflict {
                    conflict: c.clone(),
                },
                occurred_at_ms: committed_at_ms,
            });
        }
    }
    let records = visits
        .iter()
        .filter(|v| v.order_id == order.order_id)
        .filter_map(|v| exported(order, v))
        .collect();
    Outward {
        facts,
        events,
        records,
    }
}

/// The exported record of `visit`: its signature, or the last superseded one when it was
/// reopened; `None` when it was never signed.
pub fn exported(order: &Order, visit: &Visit) -> Option<ExportedRecord> {
    let (sig, state) = match (&visit.signature, visit.signature_history.last()) {
        (Some(sig), _) => {
            let state = match record::verify(order, visit) {
                Verification::ModifiedAfterSigning { .. } => RecordState::ModifiedAfterSigning,
                _ => RecordState::Valid,
            };
            (sig, state)
        }
        (None, Some(old)) => (old, RecordState::Reopened),
        (None, None) => return None,
    };
    let sections = record::sections(order, visit, &SignatureFacts::from(sig))
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    Some(ExportedRecord {
        record_id: DocId::visit(&order.order_id, &visit.technician_id).to_string(),
        order_id: order.order_id.clone(),
        order_no: order.order_no.clone(),
        technician_id: visit.technician_id.clone(),
        state,
        record_hash: sig.record_hash.clone(),
        signed_at_ms: sig.signed_at_ms,
        signer_name: sig.signer_name.clone(),
        technician_name: sig.technician_name.clone(),
        certificate_id: sig.certificate_id.clone(),
        customer_name: order.customer.name.clone(),
        address: order.customer.address.clone(),
        service_type: order.service_type.template_id().to_owned(),
        appliance: order.appliance().map(|a| ExportedAppliance {
            category: a.category.clone(),
            brand: a.brand.clone(),
            model: a.model.clone(),
            serial: a.serial.clone(),
        }),
        diagnosis: visit.diagnosis.clone(),
        work_performed: visit.work_performed.clone(),
        stars: visit.rating.as_ref().map(|r| r.stars),
        total_cents: visit.fees_total_cents() + visit.parts_total_cents(),
        sections,
    })
}
