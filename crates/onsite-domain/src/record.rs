//! The signed service record (一票到底服务记录单): its canonical form, its hash, and verification.
//!
//! ## Canonical form `onsite-record/1`
//! The record is split into named sections (`order`, `technician`, `checklists`, `readings` are
//! inside `checklists`, `parts`, `fees`, `notes`, `confirmations`, `rating`, `home_checks`,
//! `progress`, `signature`). Each section is a JSON value serialised canonically: object keys sorted
//! by their UTF-8 bytes, no whitespace, strings as serde_json writes them, integers as integers,
//! readings as shortest round-trip decimals. A section hash is the lowercase hex SHA-256 of those
//! bytes. The record hash is the SHA-256 of the text `onsite-record/1\n` followed by one line
//! `<section>=<section hash>\n` per section in name order. The signature section holds the signer's
//! name, the SHA-256 of the normalised signature image, the signing time and the technician's
//! certificate, so the hash covers the image through its hash.
//!
//! Verification recomputes every section from the documents and compares; any change to a signed
//! field after signing — made anywhere, merged from anywhere — fails and names the section.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::order::Order;
use crate::progress::{self, ProgressKind};
use crate::visit::{Outcome, Signature, Visit};

/// Version tag of the canonical form; part of every record hash.
pub const RECORD_VERSION: &str = "onsite-record/1";

/// The signer-side facts that go into the `signature` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignatureFacts<'a> {
    pub signer_name: &'a str,
    pub image_sha256: &'a str,
    pub signed_at_ms: i64,
    pub technician_name: &'a str,
    pub certificate_id: &'a str,
}

impl<'a> From<&'a Signature> for SignatureFacts<'a> {
    fn from(s: &'a Signature) -> Self {
        SignatureFacts {
            signer_name: &s.signer_name,
            image_sha256: &s.image_sha256,
            signed_at_ms: s.signed_at_ms,
            technician_name: &s.technician_name,
            certificate_id: &s.certificate_id,
        }
    }
}

/// Write `v` canonically (sorted keys, no whitespace) into `out`.
pub fn canonical_json(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical_json(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn outcome_json(o: &Outcome) -> Value {
    match o {
        Outcome::Done => json!({"type": "done"}),
        Outcome::NotApplicable { reason } => json!({"type": "not_applicable", "reason": reason}),
        Outcome::Pass => json!({"type": "pass"}),
        Outcome::Fail => json!({"type": "fail"}),
        Outcome::Reading { value, unit } => {
            json!({"type": "reading", "value": value, "unit": unit})
        }
    }
}

// The names below are part of the canonical form `onsite-record/1`: they never follow a rename
// of the Rust enums, so renaming a variant cannot silently change every record hash.

fn service_type_name(t: crate::reference::ServiceType) -> &'static str {
    use crate::reference::ServiceType::*;
    match t {
        Repair => "Repair",
        Installation => "Installation",
        Maintenance => "Maintenance",
    }
}

fn source_name(s: crate::visit::StockSource) -> &'static str {
    match s {
        crate::visit::StockSource::Personal => "Personal",
        crate::visit::StockSource::Warehouse => "Warehouse",
    }
}

fn check_result_name(r: crate::visit::CheckResult) -> &'static str {
    match r {
        crate::visit::CheckResult::Ok => "Ok",
        crate::visit::CheckResult::NeedsService => "NeedsService",
    }
}

fn progress_name(k: ProgressKind) -> &'static str {
    match k {
        ProgressKind::Accepted => "Accepted",
        ProgressKind::EnRoute => "EnRoute",
        ProgressKind::Arrived => "Arrived",
        ProgressKind::WorkStarted => "WorkStarted",
        ProgressKind::WorkDone => "WorkDone",
        ProgressKind::Signed => "Signed",
        ProgressKind::Reopened => "Reopened",
    }
}

/// The signed content as named sections (before hashing). Also what the record document renders.
pub fn sections(
    order: &Order,
    visit: &Visit,
    sig: &SignatureFacts<'_>,
) -> BTreeMap<&'static str, Value> {
    let appliance = order.appliance().map(
        |a| json!({"category": a.category, "brand": a.brand, "model": a.model, "serial": a.serial}),
    );
    let mut s = BTreeMap::new();
    s.insert(
        "order",
        json!({
            "order_no": order.order_no,
            "customer_name": order.customer.name,
            "address": order.customer.address,
            "appliance": appliance,
            "service_type": service_type_name(order.service_type),
        }),
    );
    s.insert(
        "technician",
        json!({
            "technician_id": visit.technician_id,
            "name": sig.technician_name,
            "certificate_id": sig.certificate_id,
        }),
    );
    let checklists: Vec<Value> = visit
        .checklists
        .values()
        .map(|c| {
            let answers: serde_json::Map<String, Value> = c
                .answers
                .iter()
                .map(|(id, a)| {
                    let photos: Vec<&str> = a.photos.iter().map(|p| p.sha256.as_str()).collect();
                    (
                        id.clone(),
                        json!({"outcome": outcome_json(&a.outcome), "note": a.note,
                               "answered_at_ms": a.answered_at_ms, "photos": photos}),
                    )
                })
                .collect();
            json!({"template_id": c.template_id, "version": c.version, "answers": answers})
        })
        .collect();
    s.insert("checklists", Value::Array(checklists));
    let mut parts: Vec<&crate::visit::PartUse> = visit.parts.iter().collect();
    parts.sort_by(|a, b| a.id.cmp(&b.id));
    s.insert(
        "parts",
        Value::Array(
            parts
                .into_iter()
                .map(|p| {
                    json!({"id": p.id, "part_no": p.part_no, "name_zh_cn": p.name_zh_cn, "name_en": p.name_en,
                           "qty": p.qty, "unit_price_cents": p.unit_price_cents,
                           "faulty_serial": p.faulty_serial, "replacement_serial": p.replacement_serial,
                           "source": source_name(p.source)})
                })
                .collect(),
        ),
    );
    let mut fees: Vec<&crate::visit::FeeLine> = visit.fees.iter().collect();
    fees.sort_by(|a, b| a.id.cmp(&b.id));
    s.insert(
        "fees",
        json!({
            "lines": fees.into_iter().map(|f| json!({"id": f.id, "code": f.code, "label_zh_cn": f.label_zh_cn,
                "label_en": f.label_en, "qty": f.qty, "unit_price_cents": f.unit_price_cents})).collect::<Vec<_>>(),
            "total_cents": visit.fees_total_cents() + visit.parts_total_cents(),
        }),
    );
    s.insert(
        "notes",
        json!({"diagnosis": visit.diagnosis, "work_performed": visit.work_performed}),
    );
    s.insert("confirmations", json!(visit.confirmations));
    s.insert(
        "rating",
        json!(
            visit
                .rating
                .as_ref()
                .map(|r| json!({"stars": r.stars, "comment": r.comment}))
        ),
    );
    let mut checks: Vec<&crate::visit::HomeCheck> = visit.home_checks.iter().collect();
    checks.sort_by(|a, b| a.id.cmp(&b.id));
    s.insert(
        "home_checks",
        Value::Array(
            checks
                .into_iter()
                .map(|h| json!({"id": h.id, "appliance": h.appliance, "result": check_result_name(h.result), "note": h.note}))
                .collect(),
        ),
    );
    let events: Vec<Value> = progress::ordered(&visit.events)
        .into_iter()
        .filter(|e| !matches!(e.kind, ProgressKind::Signed | ProgressKind::Reopened))
        .map(|e| json!({"kind": progress_name(e.kind), "at_ms": e.at_ms}))
        .collect();
    s.insert("progress", Value::Array(events));
    s.insert(
        "signature",
        json!({"signer_name": sig.signer_name, "image_sha256": sig.image_sha256, "signed_at_ms": sig.signed_at_ms}),
    );
    s
}

/// Section hashes and the record hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordHash {
    pub hash: String,
    pub sections: BTreeMap<String, String>,
}

/// Hash the signed content.
pub fn hash(order: &Order, visit: &Visit, sig: &SignatureFacts<'_>) -> RecordHash {
    let mut section_hashes = BTreeMap::new();
    let mut buf = String::new();
    for (name, value) in sections(order, visit, sig) {
        buf.clear();
        canonical_json(&value, &mut buf);
        section_hashes.insert(name.to_owned(), sha256_hex(buf.as_bytes()));
    }
    RecordHash {
        hash: combine(&section_hashes),
        sections: section_hashes,
    }
}

fn combine(sections: &BTreeMap<String, String>) -> String {
    let mut text = format!("{RECORD_VERSION}\n");
    for (name, h) in sections {
        text.push_str(name);
        text.push('=');
        text.push_str(h);
        text.push('\n');
    }
    sha256_hex(text.as_bytes())
}

/// The outcome of verifying a visit's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Verification {
    /// Not signed yet: nothing to verify.
    Unsigned,
    /// The documents hash to the signed hash.
    Valid { hash: String },
    /// Something signed changed after signing; `sections` names what.
    ModifiedAfterSigning {
        signed_hash: String,
        current_hash: String,
        sections: Vec<String>,
    },
}

impl Verification {
    pub fn is_valid(&self) -> bool {
        matches!(self, Verification::Valid { .. })
    }
}

/// The signed sections of `visit` that do not hash to what its signature says, every section but
/// the order's (the dispatcher may have changed the order since the customer signed — that is a
/// conflict to review, not a forgery); "signature" when the stored section hashes do not combine
/// to the signed hash. Empty when unsigned or when the visit's part of the record holds.
pub fn unmatched_visit_sections(order: &Order, visit: &Visit) -> Vec<String> {
    let Some(sig) = &visit.signature else {
        return Vec::new();
    };
    let now = hash(order, visit, &SignatureFacts::from(sig));
    let mut unmatched: Vec<String> = now
        .sections
        .iter()
        .filter(|(k, v)| k.as_str() != "order" && sig.sections.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    if combine(&sig.sections) != sig.record_hash {
        unmatched.push("signature".to_owned());
    }
    unmatched
}

/// Recompute the record hash from the documents and compare it with the stored signature.
pub fn verify(order: &Order, visit: &Visit) -> Verification {
    let Some(sig) = &visit.signature else {
        return Verification::Unsigned;
    };
    let now = hash(order, visit, &SignatureFacts::from(sig));
    // The stored section hashes must themselves still produce the stored record hash.
    let stored_consistent = combine(&sig.sections) == sig.record_hash;
    if now.hash == sig.record_hash && stored_consistent {
        return Verification::Valid { hash: now.hash };
    }
    let mut changed: Vec<String> = now
        .sections
        .iter()
        .filter(|(k, v)| sig.sections.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    if changed.is_empty() {
        changed.push("signature".to_owned());
    }
    Verification::ModifiedAfterSigning {
        signed_hash: sig.record_hash.clone(),
        current_hash: now.hash,
        sections: changed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_and_has_no_whitespace() {
        let v = json!({"b": 1, "a": {"d": [1, 2.5, "x"], "c": null}, "é": true});
        let mut s = String::new();
        canonical_json(&v, &mut s);
        assert_eq!(s, r#"{"a":{"c":null,"d":[1,2.5,"x"]},"b":1,"é":true}"#);
    }
}
