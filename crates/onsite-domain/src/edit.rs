//! Every edit a technician (or the customer, on the hand-over screen) makes to a visit, validated
//! here once. The device store applies an edit by hydrating the visit, calling [`apply`], and
//! reconciling the result in one transaction; a refused edit changes nothing.

use serde::{Deserialize, Serialize};

use crate::completion::{self, outcome_fits};
use crate::error::is_sha256_hex;
use crate::order::{DispatchStatus, Order};
use crate::progress::{self, ProgressEvent, ProgressKind};
use crate::record::{self, SignatureFacts};
use crate::reference::{
    Confirmation, FeeSchedule, ItemKind, PartsCatalogue, PhotoPolicy, TechnicianProfile,
    TemplateItem, TemplateLibrary,
};
use crate::visit::{
    CheckResult, ChecklistInstance, FeeLine, HomeCheck, ItemAnswer, Outcome, PartUse, PhotoRef,
    Rating, Signature, StockSource, Visit, confirmation_key,
};
use crate::{DomainError, Millis};

/// One edit to a visit. Ids of new list entries are chosen by the caller (random on a device).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VisitEdit {
    Progress {
        id: String,
        kind: ProgressKind,
    },
    Answer {
        template_id: String,
        item_id: String,
        outcome: Outcome,
        note: String,
    },
    AttachPhoto {
        template_id: String,
        item_id: String,
        sha256: String,
    },
    DetachPhoto {
        template_id: String,
        item_id: String,
        sha256: String,
    },
    ClearAnswer {
        template_id: String,
        item_id: String,
    },
    AddPart {
        id: String,
        part_no: String,
        qty: i64,
        faulty_serial: String,
        replacement_serial: String,
        source: StockSource,
    },
    RemovePart {
        id: String,
    },
    AddFee {
        id: String,
        code: String,
        qty: i64,
    },
    RemoveFee {
        id: String,
    },
    SetNotes {
        diagnosis: String,
        work_performed: String,
    },
    AddHomeCheck {
        id: String,
        appliance: String,
        result: CheckResult,
        note: String,
    },
    RemoveHomeCheck {
        id: String,
    },
    Confirm {
        confirmation: Confirmation,
        value: bool,
    },
    Rate {
        stars: i64,
        comment: String,
    },
    Sign {
        event_id: String,
        signer_name: String,
        image_sha256: String,
    },
    Reopen {
        event_id: String,
        reason: String,
    },
}

/// What an edit is checked against. `now` is device time.
#[derive(Debug, Clone, Copy)]
pub struct EditContext<'a> {
    pub order: &'a Order,
    pub library: &'a TemplateLibrary,
    pub fees: &'a FeeSchedule,
    pub parts: &'a PartsCatalogue,
    pub profile: &'a TechnicianProfile,
    pub device_id: &'a str,
    pub now: Millis,
}

impl VisitEdit {
    /// Edits that change signed content and so are refused on a signed record.
    fn touches_signed_content(&self) -> bool {
        !matches!(self, VisitEdit::Reopen { .. })
    }
}

/// Apply `edit` to `visit` or refuse it, leaving `visit` untouched on error.
pub fn apply(visit: &mut Visit, edit: VisitEdit, ctx: &EditContext<'_>) -> Result<(), DomainError> {
    let mut next = visit.clone();
    apply_in_place(&mut next, edit, ctx)?;
    crate::admit::sizes(&next, true)?;
    *visit = next;
    Ok(())
}

/// Whether the visit may be edited at all: not signed (unless reopening), still assigned to its
/// technician, and the order open.
fn may_edit(v: &Visit, edit: &VisitEdit, ctx: &EditContext<'_>) -> Result<(), DomainError> {
    if v.is_signed() && edit.touches_signed_content() {
        return Err(DomainError::RecordFrozen);
    }
    if ctx.order.assignee.as_deref() != Some(v.technician_id.as_str()) {
        return Err(DomainError::NotAssignee(v.technician_id.clone()));
    }
    match ctx.order.status {
        DispatchStatus::Cancelled => Err(DomainError::OrderCancelled),
        DispatchStatus::OnHold => Err(DomainError::OrderOnHold),
        DispatchStatus::Open => Ok(()),
    }
}

/// Check and apply one edit, by kind. On error `v` may be half-changed: [`apply`] discards it.
fn apply_in_place(
    v: &mut Visit,
    edit: VisitEdit,
    ctx: &EditContext<'_>,
) -> Result<(), DomainError> {
    may_edit(v, &edit, ctx)?;
    match edit {
        VisitEdit::Progress { id, kind } => add_progress(v, id, kind, ctx),
        VisitEdit::Answer {
            template_id,
            item_id,
            outcome,
            note,
        } => answer(v, &template_id, item_id, outcome, note, ctx),
        VisitEdit::AttachPhoto {
            template_id,
            item_id,
            sha256,
        } => attach_photo(v, &template_id, item_id, sha256, ctx),
        VisitEdit::DetachPhoto {
            template_id,
            item_id,
            sha256,
        } => detach_photo(v, &template_id, item_id, sha256, ctx),
        VisitEdit::ClearAnswer {
            template_id,
            item_id,
        } => clear_answer(v, &template_id, item_id, ctx),
        VisitEdit::AddPart {
            id,
            part_no,
            qty,
            faulty_serial,
            replacement_serial,
            source,
        } => add_part(
            v,
            NewPart {
                id,
                part_no,
                qty,
                faulty_serial,
                replacement_serial,
                source,
            },
            ctx,
        ),
        VisitEdit::RemovePart { id } => remove_by_id(&mut v.parts, |p| &p.id, id),
        VisitEdit::AddFee { id, code, qty } => add_fee(v, id, code, qty, ctx),
        VisitEdit::RemoveFee { id } => remove_by_id(&mut v.fees, |f| &f.id, id),
        VisitEdit::SetNotes {
            diagnosis,
            work_performed,
        } => {
            v.diagnosis = diagnosis;
            v.work_performed = work_performed;
            Ok(())
        }
        VisitEdit::AddHomeCheck {
            id,
            appliance,
            result,
            note,
        } => add_home_check(v, id, appliance, result, note),
        VisitEdit::RemoveHomeCheck { id } => remove_by_id(&mut v.home_checks, |h| &h.id, id),
        VisitEdit::Confirm {
            confirmation,
            value,
        } => {
            v.confirmations
                .insert(confirmation_key(confirmation).to_owned(), value);
            Ok(())
        }
        VisitEdit::Rate { stars, comment } => rate(v, stars, comment),
        VisitEdit::Sign {
            event_id,
            signer_name,
            image_sha256,
        } => sign(v, event_id, signer_name, image_sha256, ctx),
        VisitEdit::Reopen { event_id, reason } => reopen(v, event_id, reason, ctx),
    }
}

fn add_progress(
    v: &mut Visit,
    id: String,
    kind: ProgressKind,
    ctx: &EditContext<'_>,
) -> Result<(), DomainError> {
    if matches!(kind, ProgressKind::Signed | ProgressKind::Reopened) {
        return Err(DomainError::ReservedStep { kind });
    }
    push_event(v, id, kind, ctx)
}

fn answer(
    v: &mut Visit,
    template_id: &str,
    item_id: String,
    outcome: Outcome,
    note: String,
    ctx: &EditContext<'_>,
) -> Result<(), DomainError> {
    let (inst, item) = checklist_item(v, ctx.library, template_id, &item_id)?;
    check_outcome(&item.kind, &item_id, &outcome, &note)?;
    let photos = inst
        .answers
        .get(&item_id)
        .map(|a| a.photos.clone())
        .unwrap_or_default();
    inst.answers.insert(
        item_id,
        ItemAnswer {
            outcome,
            note,
            answered_at_ms: ctx.now,
            photos,
        },
    );
    Ok(())
}

/// Whether `outcome` answers an item of `kind`: the right kind of answer, a reason for N/A, a
/// reading in the item's unit, and a note when the reading is out of range.
fn check_outcome(
    kind: &ItemKind,
    item_id: &str,
    outcome: &Outcome,
    note: &str,
) -> Result<(), DomainError> {
    outcome_fits(kind, outcome).map_err(|expected| DomainError::WrongAnswerKind {
        item_id: item_id.to_owned(),
        expected,
    })?;
    let item_id = item_id.to_owned();
    match (kind, outcome) {
        (_, Outcome::NotApplicable { reason }) if reason.trim().is_empty() => {
            Err(DomainError::ReasonRequired { item_id })
        }
        (ItemKind::Reading { unit, min, max }, Outcome::Reading { value, unit: given }) => {
            if given != unit {
                return Err(DomainError::WrongUnit {
                    item_id,
                    expected: unit.clone(),
                    given: given.clone(),
                });
            }
            if !value.is_finite() {
                return Err(DomainError::ReadingNotANumber { item_id });
            }
            if (*value < *min || *value > *max) && note.trim().is_empty() {
                return Err(DomainError::ReadingOutOfRangeNeedsNote {
                    item_id,
                    value: *value,
                    unit: unit.clone(),
                    min: *min,
                    max: *max,
                });
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn attach_photo(
    v: &mut Visit,
    template_id: &str,
    item_id: String,
    sha256: String,
    ctx: &EditContext<'_>,
) -> Result<(), DomainError> {
    if !is_sha256_hex(&sha256) {
        return Err(DomainError::BadPhotoRef(sha256));
    }
    let (inst, item) = checklist_item(v, ctx.library, template_id, &item_id)?;
    if item.photo == PhotoPolicy::None {
        return Err(DomainError::PhotoNotAllowed { item_id });
    }
    let Some(ans) = inst.answers.get_mut(&item_id) else {
        return Err(DomainError::NotAnswered { item_id });
    };
    if ans.photos.iter().any(|p| p.sha256 == sha256) {
        return Err(DomainError::DuplicateId(sha256));
    }
    ans.photos.push(PhotoRef {
        sha256,
        taken_at_ms: ctx.now,
    });
    Ok(())
}

fn detach_photo(
    v: &mut Visit,
    template_id: &str,
    item_id: String,
    sha256: String,
    ctx: &EditContext<'_>,
) -> Result<(), DomainError> {
    let (inst, _) = checklist_item(v, ctx.library, template_id, &item_id)?;
    let ans = inst
        .answers
        .get_mut(&item_id)
        .ok_or_else(|| DomainError::NoSuchEntry(item_id.clone()))?;
    let before = ans.photos.len();
    ans.photos.retain(|p| p.sha256 != sha256);
    if ans.photos.len() == before {
        return Err(DomainError::NoSuchEntry(sha256));
    }
    Ok(())
}

fn clear_answer(
    v: &mut Visit,
    template_id: &str,
    item_id: String,
    ctx: &EditContext<'_>,
) -> Result<(), DomainError> {
    let (inst, _) = checklist_item(v, ctx.library, template_id, &item_id)?;
    if inst.answers.remove(&item_id).is_none() {
        return Err(DomainError::NoSuchEntry(item_id));
    }
    Ok(())
}

/// The fields of [`VisitEdit::AddPart`].
struct NewPart {
    id: String,
    part_no: String,
    qty: i64,
    faulty_serial: String,
    replacement_serial: String,
    source: StockSource,
}

fn add_part(v: &mut Visit, new: NewPart, ctx: &EditContext<'_>) -> Result<(), DomainError> {
    let NewPart {
        id,
        part_no,
        qty,
        faulty_serial,
        replacement_serial,
        source,
    } = new;
    let part = ctx.parts.part(&part_no)?;
    if qty < 1 {
        return Err(DomainError::BadQuantity(qty));
    }
    if part.serialised && replacement_serial.trim().is_empty() {
        return Err(DomainError::Empty {
            what: "replacement serial number of a serialised part",
        });
    }
    unique(v.parts.iter().map(|p| &p.id), &id)?;
    v.parts.push(PartUse {
        id,
        name_zh_cn: part.name.zh_cn.clone(),
        name_en: part.name.en.clone(),
        unit_price_cents: part.unit_price_cents,
        part_no,
        qty,
        faulty_serial,
        replacement_serial,
        source,
    });
    Ok(())
}

fn add_fee(
    v: &mut Visit,
    id: String,
    code: String,
    qty: i64,
    ctx: &EditContext<'_>,
) -> Result<(), DomainError> {
    let item = ctx.fees.item(&code)?;
    if qty < 1 {
        return Err(DomainError::BadQuantity(qty));
    }
    unique(v.fees.iter().map(|f| &f.id), &id)?;
    v.fees.push(FeeLine {
        id,
        label_zh_cn: item.label.zh_cn.clone(),
        label_en: item.label.en.clone(),
        unit_price_cents: item.unit_price_cents,
        code,
        qty,
    });
    Ok(())
}

fn add_home_check(
    v: &mut Visit,
    id: String,
    appliance: String,
    result: CheckResult,
    note: String,
) -> Result<(), DomainError> {
    if appliance.trim().is_empty() {
        return Err(DomainError::Empty { what: "appliance" });
    }
    unique(v.home_checks.iter().map(|h| &h.id), &id)?;
    v.home_checks.push(HomeCheck {
        id,
        appliance,
        result,
        note,
    });
    Ok(())
}

fn rate(v: &mut Visit, stars: i64, comment: String) -> Result<(), DomainError> {
    if !(1..=5).contains(&stars) {
        return Err(DomainError::BadRating(stars));
    }
    v.rating = Some(Rating {
        stars: stars as u32,
        comment,
    });
    Ok(())
}

/// Sign the record: everything required is answered, and the signature covers the record's hash.
fn sign(
    v: &mut Visit,
    event_id: String,
    signer_name: String,
    image_sha256: String,
    ctx: &EditContext<'_>,
) -> Result<(), DomainError> {
    if signer_name.trim().is_empty() {
        return Err(DomainError::SignerNameMissing);
    }
    if !is_sha256_hex(&image_sha256) {
        return Err(DomainError::BadSignatureRef);
    }
    completion::ready_to_sign(v, ctx.library)?;
    let at = progress::stamp(&v.events, ctx.now);
    progress::check(&v.events, ProgressKind::Signed, at)?;
    let facts = SignatureFacts {
        signer_name: &signer_name,
        image_sha256: &image_sha256,
        signed_at_ms: at,
        technician_name: &ctx.profile.name,
        certificate_id: &ctx.profile.certificate_id,
    };
    let h = record::hash(ctx.order, v, &facts);
    v.signature = Some(Signature {
        record_hash: h.hash,
        signer_name,
        technician_name: ctx.profile.name.clone(),
        certificate_id: ctx.profile.certificate_id.clone(),
        image_sha256,
        signed_at_ms: at,
        sections: h.sections,
        reopened_at_ms: None,
        reopen_reason: String::new(),
    });
    push_event(v, event_id, ProgressKind::Signed, ctx)
}

/// Reopen a signed record: its signature moves to the history with the reason.
fn reopen(
    v: &mut Visit,
    event_id: String,
    reason: String,
    ctx: &EditContext<'_>,
) -> Result<(), DomainError> {
    if reason.trim().is_empty() {
        return Err(DomainError::Empty {
            what: "reason for reopening",
        });
    }
    let Some(mut old) = v.signature.take() else {
        return Err(DomainError::NotSigned);
    };
    let at = progress::stamp(&v.events, ctx.now);
    progress::check(&v.events, ProgressKind::Reopened, at)?;
    old.reopened_at_ms = Some(at);
    old.reopen_reason = reason;
    v.signature_history.push(old);
    push_event(v, event_id, ProgressKind::Reopened, ctx)
}

fn push_event(
    v: &mut Visit,
    id: String,
    kind: ProgressKind,
    ctx: &EditContext<'_>,
) -> Result<(), DomainError> {
    let at_ms = progress::stamp(&v.events, ctx.now);
    progress::check(&v.events, kind, at_ms)?;
    unique(v.events.iter().map(|e| &e.id), &id)?;
    v.events.push(ProgressEvent {
        id,
        kind,
        at_ms,
        device_id: ctx.device_id.to_owned(),
    });
    Ok(())
}

/// The visit's checklist `template_id` (to edit) and the definition of its item `item_id`.
fn checklist_item<'v, 'l>(
    v: &'v mut Visit,
    library: &'l TemplateLibrary,
    template_id: &str,
    item_id: &str,
) -> Result<(&'v mut ChecklistInstance, &'l TemplateItem), DomainError> {
    let inst =
        v.checklists
            .get_mut(template_id)
            .ok_or_else(|| DomainError::ChecklistNotInVisit {
                template_id: template_id.to_owned(),
            })?;
    let t = library.get(&inst.template_id, inst.version)?;
    let item = t.item(item_id).ok_or_else(|| DomainError::UnknownItem {
        template_id: template_id.to_owned(),
        item_id: item_id.to_owned(),
    })?;
    Ok((inst, item))
}

fn unique<'a>(mut ids: impl Iterator<Item = &'a String>, id: &str) -> Result<(), DomainError> {
    if id.is_empty() {
        return Err(DomainError::Empty { what: "entry id" });
    }
    if ids.any(|x| x == id) {
        return Err(DomainError::DuplicateId(id.to_owned()));
    }
    Ok(())
}

fn remove_by_id<T>(
    list: &mut Vec<T>,
    key: impl Fn(&T) -> &String,
    id: String,
) -> Result<(), DomainError> {
    let before = list.len();
    list.retain(|x| key(x) != &id);
    if list.len() == before {
        return Err(DomainError::NoSuchEntry(id));
    }
    Ok(())
}
