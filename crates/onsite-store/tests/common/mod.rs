//! Shared set-up for the store's tests and benchmark: the demo reference data from
//! `onsite_domain::seed`, orders assigned to technicians, and the edit sequence that takes a
//! visit through the whole checklist to a signature — all through the store's real edit path.
#![allow(dead_code)]

use onsite_domain::edit::VisitEdit;
use onsite_domain::ledger::StockLedger;
use onsite_domain::order::Order;
use onsite_domain::reference::{ItemKind, PhotoPolicy, ServiceType, TemplateLibrary};
use onsite_domain::sla::SlaPolicy;
use onsite_domain::visit::{Outcome, Visit};
use onsite_domain::{DocId, HOUR, Millis, seed, templates};
use onsite_store::Store;

/// Midnight UTC of the demo day.
pub const DAY: Millis = 1_795_996_800_000;
/// When the demo orders are created (06:00 on the demo day).
pub const CREATED: Millis = DAY + 6 * HOUR;

/// Put the reference documents, and a profile and an empty ledger per technician, in `store`.
pub fn seed_reference(store: &mut Store, technicians: &[&str]) {
    store
        .create(&DocId::Templates, &templates::builtin_library())
        .expect("templates");
    store
        .create(&DocId::FeeSchedule, &seed::fee_schedule(DAY - HOUR))
        .expect("fees");
    store
        .create(&DocId::PartsCatalogue, &seed::parts_catalogue())
        .expect("parts");
    for (i, t) in technicians.iter().enumerate() {
        let profile = seed::technician(
            t,
            &format!("Technician {t}"),
            &format!("1390000{i:04}"),
            &format!("CERT-{i:05}"),
            DAY - HOUR,
        );
        store
            .create(&DocId::Profile((*t).to_owned()), &profile)
            .expect("profile");
        store
            .create(&DocId::Ledger((*t).to_owned()), &StockLedger::new(t))
            .expect("ledger");
    }
}

/// Create demo order `n` scheduled on `day`, assigned to `technician`; returns the order id.
pub fn create_order(store: &mut Store, n: u32, day: Millis, technician: &str) -> String {
    let profile = seed::technician(technician, "T", "1", "C", DAY - HOUR);
    let mut order = Order::create(seed::order(n, day), &SlaPolicy::default(), CREATED)
        .expect("demo order is valid");
    order
        .assign(&format!("tr-{n}"), &profile, "", "dispatch", CREATED)
        .expect("assign");
    let id = order.order_id.clone();
    store
        .create(&DocId::Order(id.clone()), &order)
        .expect("create order");
    id
}

/// The demo job of `service_type` up to "work done", ready for the customer to sign
/// ([`seed::job_edits`]: progress, checklist, home check, confirmations, rating, a fee, a part
/// and notes), its photos being `photo`, the SHA-256 of a stored photo attachment.
pub fn edits_to_work_done(service_type: ServiceType, photo: &str, prefix: &str) -> Vec<VisitEdit> {
    seed::job_edits(service_type, prefix)
        .into_iter()
        .map(|e| match e {
            VisitEdit::AttachPhoto {
                template_id,
                item_id,
                ..
            } => VisitEdit::AttachPhoto {
                template_id,
                item_id,
                sha256: photo.to_owned(),
            },
            e => e,
        })
        .collect()
}

/// An answer for every item the technician answers (not the customer's confirmations), plus a
/// photo where the template requires one.
pub fn checklist_answers(visit: &Visit, library: &TemplateLibrary, photo: &str) -> Vec<VisitEdit> {
    let mut edits = Vec::new();
    for inst in visit.checklists.values() {
        let t = library
            .get(&inst.template_id, inst.version)
            .expect("template of the visit");
        for item in &t.items {
            let outcome = match &item.kind {
                ItemKind::Tick | ItemKind::Evidence | ItemKind::HomeCheck => Outcome::Done,
                ItemKind::PassFail => Outcome::Pass,
                ItemKind::Reading { unit, min, max } => Outcome::Reading {
                    value: ((min + max) / 2.0).round(),
                    unit: unit.clone(),
                },
                ItemKind::CustomerConfirm { .. } | ItemKind::SignedRecord => continue,
            };
            edits.push(VisitEdit::Answer {
                template_id: t.id.clone(),
                item_id: item.id.clone(),
                outcome,
                note: String::new(),
            });
            if item.photo == PhotoPolicy::Required {
                edits.push(VisitEdit::AttachPhoto {
                    template_id: t.id.clone(),
                    item_id: item.id.clone(),
                    sha256: photo.to_owned(),
                });
            }
        }
    }
    edits
}

/// A small deterministic "PNG" of `len` bytes (signature images are 4–8 KB after normalising).
pub fn image_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Start the visit and apply every edit up to signing; returns the time after the last edit.
pub fn work_to_done(
    store: &mut Store,
    order_id: &str,
    technician: &str,
    photo: &str,
    mut now: Millis,
) -> Millis {
    store
        .start_visit(order_id, technician)
        .expect("start visit");
    let order: Order = store
        .read(&DocId::Order(order_id.to_owned()))
        .expect("order");
    for edit in edits_to_work_done(order.service_type, photo, order_id) {
        now += 60_000;
        store
            .apply_visit_edit(order_id, technician, edit.clone(), now)
            .unwrap_or_else(|e| panic!("edit {edit:?} on {order_id} must be accepted: {e}"));
    }
    now
}

/// The customer signs: stores the signature image and applies the sign edit.
pub fn sign(
    store: &mut Store,
    order_id: &str,
    technician: &str,
    signature_png: &[u8],
    now: Millis,
) -> Visit {
    let sha = store
        .put_attachment(signature_png, "image/png")
        .expect("signature attachment");
    store
        .apply_visit_edit(
            order_id,
            technician,
            seed::sign_edit(order_id, "张伟", &sha),
            now,
        )
        .expect("sign")
}
