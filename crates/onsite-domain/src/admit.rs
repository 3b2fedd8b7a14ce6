//! What a document may become: the rules a stored document's change must keep, checked on the
//! document as it would be after the change.
//!
//! The device's edits go through [`crate::edit::apply`] and the order's own operations, which
//! already keep these rules; a modified client need not. So the relay runs the same checks on
//! the result of every incoming change before it stores anything ("identical validation offline
//! and online"), and the device runs [`sizes`] on every edit it makes, so neither side accepts
//! what the other would refuse.
//!
//! What is *not* checked here, on purpose: whether the order still allows the visit's work
//! (cancelled, on hold, reassigned). Offline work on an order that changed meanwhile is a
//! conflict the dispatcher resolves ([`crate::status`], [`crate::resolve`]); refusing it would
//! lose the technician's work.

use automerge::AutoCommit;
use serde::Serialize;
use serde_json::Value;

use crate::DomainError;
use crate::household::Household;
use crate::ledger::StockLedger;
use crate::order::Order;
use crate::progress::{self, ProgressEvent, ProgressKind};
use crate::record;
use crate::reference::TemplateLibrary;
use crate::reference::{FeeSchedule, PartsCatalogue, TechnicianProfile};
use crate::visit::Visit;
use crate::{DocId, completion, doc};

/// Longest text any field of any document holds, in characters: a typed note, a diagnosis, an
/// address. Identifiers, names and serials are far shorter; the longest legitimate text in the
/// demo data is a few hundred characters.
pub const TEXT_CHARS: usize = 4_000;

/// Most entries a list or map of a visit or an order holds: checklist answers, photos of an
/// item, parts, fees, progress events, transfers, resolutions.
pub const ENTRIES: usize = 500;

/// Most Automerge operations one sync message may carry for one document. A scalar field costs
/// one operation whatever its length; only collaborative text costs one per character. The
/// largest legitimate message is a document's first upload: an order or visit at its limits is
/// [`ENTRIES`] entries of a dozen fields each (≈ 6,000 operations) plus a text field typed in
/// full twenty times over (20 × [`TEXT_CHARS`] = 80,000); beyond that a message is an attack
/// on the relay's time and memory, refused before it is applied.
pub const MESSAGE_OPS: usize = ENTRIES * 12 + 20 * TEXT_CHARS;

/// `document` reads as the kind `id` names and keeps the size limits ([`sizes`]; entries are
/// limited for orders and visits, whose lists do not grow with time).
pub fn shape(id: &DocId, document: &AutoCommit) -> Result<(), DomainError> {
    fn read<T: autosurgeon::Hydrate + Serialize>(
        d: &AutoCommit,
        limit_entries: bool,
    ) -> Result<(), DomainError> {
        sizes(&doc::read::<T>(d)?, limit_entries)
    }
    match id {
        DocId::Order(_) => read::<Order>(document, true),
        DocId::Visit { .. } => visit_sizes(&doc::read::<Visit>(document)?),
        DocId::Templates => read::<TemplateLibrary>(document, false),
        DocId::FeeSchedule => read::<FeeSchedule>(document, false),
        DocId::PartsCatalogue => read::<PartsCatalogue>(document, false),
        DocId::Profile(_) => read::<TechnicianProfile>(document, false),
        DocId::Ledger(_) => read::<StockLedger>(document, false),
        DocId::Household(_) => read::<Household>(document, false),
        DocId::Bonus => {
            let versions: crate::bonus::BonusVersions = doc::read(document)?;
            sizes(&versions, false)?;
            Ok(versions.check_change(None)?)
        }
        DocId::ServiceSettings => {
            let settings: crate::service::ServiceSettings = doc::read(document)?;
            sizes(&settings, false)?;
            settings.validate()
        }
    }
}

/// Whether `after` is a change of `ref:bonus` as stored (`before`, `None` when new) that keeps
/// its rules: every version valid, and no earlier version altered or dropped
/// ([`crate::bonus::BonusVersions::check_change`]).
pub fn bonus(
    before: Option<&crate::bonus::BonusVersions>,
    after: &crate::bonus::BonusVersions,
) -> Result<(), DomainError> {
    Ok(after.check_change(before)?)
}

/// A visit keeps the size limits (entries limited: its lists do not grow with time); what
/// [`shape`] checks of a `visit:` document, for a visit already read.
pub fn visit_sizes(visit: &Visit) -> Result<(), DomainError> {
    sizes(visit, true)
}

/// Every text of `value` (a document as JSON) within [`TEXT_CHARS`] and, when `limit_entries`,
/// every list and map within [`ENTRIES`]. The error names the field by its path.
pub fn sizes<T: Serialize>(value: &T, limit_entries: bool) -> Result<(), DomainError> {
    let json = serde_json::to_value(value).map_err(|e| DomainError::Hydrate(e.to_string()))?;
    let mut path = String::new();
    walk(&json, &mut path, limit_entries)
}

fn walk(v: &Value, path: &mut String, limit_entries: bool) -> Result<(), DomainError> {
    let too_many = |count: usize, path: &str| DomainError::TooManyEntries {
        field: path.to_owned(),
        count,
        max: ENTRIES,
    };
    match v {
        Value::String(s) => {
            let chars = s.chars().count();
            if chars > TEXT_CHARS {
                return Err(DomainError::TooLong {
                    field: path.clone(),
                    chars,
                    max: TEXT_CHARS,
                });
            }
        }
        Value::Array(items) => {
            if limit_entries && items.len() > ENTRIES {
                return Err(too_many(items.len(), path));
            }
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, path, limit_entries)?;
                path.truncate(len);
            }
        }
        Value::Object(fields) => {
            if limit_entries && fields.len() > ENTRIES {
                return Err(too_many(fields.len(), path));
            }
            for (name, field) in fields {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(name);
                walk(field, path, limit_entries)?;
                path.truncate(len);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
    Ok(())
}

/// Whether `after` is a change of `before` (`None`: a new visit) that the technician's own edits
/// could have made: sizes, identity, an append-only timeline in the allowed order, a signed
/// record frozen until reopened, and a new signature only on a complete record whose signed
/// sections hash to what the signature says. `order` is the visit's order as the relay holds it.
pub fn visit(
    before: Option<&Visit>,
    after: &Visit,
    order: &Order,
    library: &TemplateLibrary,
) -> Result<(), DomainError> {
    sizes(after, true)?;
    if after.order_id != order.order_id
        || before.is_some_and(|b| b.technician_id != after.technician_id)
    {
        return Err(DomainError::Hydrate(
            "the visit names another order or technician than its document id".to_owned(),
        ));
    }
    let (events_before, history_before, sig_before) = match before {
        Some(b) => (
            &b.events[..],
            &b.signature_history[..],
            b.signature.as_ref(),
        ),
        None => (&[][..], &[][..], None),
    };
    let added = appended_events(events_before, &after.events)?;
    if !after.signature_history.starts_with(history_before) {
        return Err(DomainError::RecordFrozen);
    }
    let reopened = added.iter().any(|e| e.kind == ProgressKind::Reopened);
    if let (Some(b), Some(sig)) = (before, sig_before)
        && !reopened
    {
        // Frozen: nothing of a signed record changes until it is reopened.
        if after.signature.as_ref() != Some(sig) || after != b {
            return Err(DomainError::RecordFrozen);
        }
        return Ok(());
    }
    if let Some(sig) = sig_before
        && reopened
        && after
            .signature_history
            .get(history_before.len())
            .is_none_or(|kept| kept.record_hash != sig.record_hash)
    {
        // Reopening keeps the earlier signature in the history.
        return Err(DomainError::RecordFrozen);
    }
    if let Some(sig) = &after.signature
        && Some(sig) != sig_before
    {
        if !added.iter().any(|e| e.kind == ProgressKind::Signed) {
            return Err(DomainError::InvalidTransition {
                current: progress::current(events_before),
                attempted: ProgressKind::Signed,
                hint: "a signature comes with its 'signed' step",
            });
        }
        completion::ready_to_sign(after, library)?;
        let forged = record::unmatched_visit_sections(order, after);
        if !forged.is_empty() {
            return Err(DomainError::SignatureMismatch(forged));
        }
    }
    Ok(())
}

/// The events `after` adds to `before`, in timeline order, each allowed after the ones before
/// it; refused when an earlier event is gone or changed.
fn appended_events<'a>(
    before: &[ProgressEvent],
    after: &'a [ProgressEvent],
) -> Result<Vec<&'a ProgressEvent>, DomainError> {
    for b in before {
        if !after.iter().any(|a| a == b) {
            return Err(DomainError::ProgressRewritten(b.id.clone()));
        }
    }
    let mut timeline: Vec<ProgressEvent> = before.to_vec();
    let added = progress::ordered_refs(after.iter().filter(|a| !before.contains(a)).collect());
    for e in &added {
        if timeline.iter().any(|t| t.id == e.id) {
            return Err(DomainError::ProgressRewritten(e.id.clone()));
        }
        progress::check(&timeline, e.kind, e.at_ms)?;
        timeline.push((*e).clone());
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_over_long_text_is_named_by_its_path() {
        let v = json!({"parts": [{"serial": "ok"}, {"serial": "x".repeat(TEXT_CHARS + 1)}]});
        match sizes(&v, true) {
            Err(DomainError::TooLong { field, chars, max }) => {
                assert_eq!(field, "parts[1].serial", "the path names the entry");
                assert_eq!((chars, max), (TEXT_CHARS + 1, TEXT_CHARS));
            }
            other => panic!("refused as too long, not {other:?}"),
        }
        let exactly = json!({"note": "长".repeat(TEXT_CHARS)});
        assert_eq!(
            sizes(&exactly, true),
            Ok(()),
            "characters, not bytes, are counted"
        );
    }

    #[test]
    fn entries_are_limited_only_where_asked() {
        let v = json!({"events": vec![0; ENTRIES + 1]});
        assert!(
            matches!(sizes(&v, true), Err(DomainError::TooManyEntries { count, .. }) if count == ENTRIES + 1),
            "orders and visits have bounded lists"
        );
        assert_eq!(sizes(&v, false), Ok(()), "a ledger's moves grow with time");
    }
}
