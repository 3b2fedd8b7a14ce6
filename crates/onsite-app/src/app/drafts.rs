//! Drafts of what the technician types (notes, readings, N/A reasons): kept in the device store
//! as they type, shown again when the screen reopens (also after a restart), dropped when the
//! field is committed as an edit. Per device, never synced.

use onsite_domain::DocId;
use onsite_domain::edit::VisitEdit;
use onsite_store::{Draft, DraftKey, Store};

use super::{App, lock};
use crate::error::AppError;
use crate::view::{DraftField, DraftRequest, DraftView};

/// Longest draft accepted, in characters (a page of notes).
pub const MAX_DRAFT_CHARS: usize = 4000;

fn key(order_id: &str, field: &DraftField) -> DraftKey {
    let (name, item) = match field {
        DraftField::Diagnosis => ("diagnosis", None),
        DraftField::WorkPerformed => ("work_performed", None),
        DraftField::Reading {
            template_id,
            item_id,
        } => ("reading", Some((template_id, item_id))),
        DraftField::Note {
            template_id,
            item_id,
        } => ("note", Some((template_id, item_id))),
        DraftField::NaReason {
            template_id,
            item_id,
        } => ("na_reason", Some((template_id, item_id))),
    };
    let (template_id, item_id) = item
        .map(|(t, i)| (t.clone(), i.clone()))
        .unwrap_or_default();
    DraftKey {
        order_id: order_id.to_owned(),
        field: name.to_owned(),
        template_id,
        item_id,
    }
}

fn field(key: &DraftKey) -> Option<DraftField> {
    let (template_id, item_id) = (key.template_id.clone(), key.item_id.clone());
    Some(match key.field.as_str() {
        "diagnosis" => DraftField::Diagnosis,
        "work_performed" => DraftField::WorkPerformed,
        "reading" => DraftField::Reading {
            template_id,
            item_id,
        },
        "note" => DraftField::Note {
            template_id,
            item_id,
        },
        "na_reason" => DraftField::NaReason {
            template_id,
            item_id,
        },
        _ => return None,
    })
}

/// Drop the drafts `edit` commits (after it was applied).
pub(super) fn discard_committed(
    store: &mut Store,
    order_id: &str,
    edit: &VisitEdit,
) -> Result<(), AppError> {
    match edit {
        VisitEdit::SetNotes { .. } => {
            store.discard_draft(&key(order_id, &DraftField::Diagnosis))?;
            store.discard_draft(&key(order_id, &DraftField::WorkPerformed))?;
        }
        VisitEdit::Answer {
            template_id,
            item_id,
            ..
        } => {
            store.discard_item_drafts(order_id, template_id, item_id)?;
        }
        VisitEdit::Sign { .. } => {
            store.discard_order_drafts(order_id)?;
        }
        _ => {}
    }
    Ok(())
}

impl App {
    /// Keep what the technician typed into one field of `order_id`, replacing the field's
    /// earlier draft. Nothing is validated but its size: a reading is checked when committed.
    pub fn save_draft(&self, req: DraftRequest) -> Result<(), AppError> {
        let chars = req.text.chars().count();
        if chars > MAX_DRAFT_CHARS {
            return Err(AppError::DraftTooLong(chars, MAX_DRAFT_CHARS));
        }
        if let DraftField::Reading {
            template_id,
            item_id,
        }
        | DraftField::Note {
            template_id,
            item_id,
        }
        | DraftField::NaReason {
            template_id,
            item_id,
        } = &req.field
            && (template_id.is_empty() || item_id.is_empty())
        {
            return Err(AppError::Empty("template and item of a checklist draft"));
        }
        let now = self.now();
        let mut store = lock(&self.store);
        if !store.contains(&DocId::Order(req.order_id.clone()))? {
            return Err(AppError::OrderNotFound(req.order_id));
        }
        store.save_draft(&Draft {
            key: key(&req.order_id, &req.field),
            text: req.text,
            saved_at_ms: now,
        })?;
        Ok(())
    }

    /// The drafts kept for `order_id`.
    pub fn drafts(&self, order_id: &str) -> Result<Vec<DraftView>, AppError> {
        let drafts = lock(&self.store).drafts(order_id)?;
        Ok(drafts
            .into_iter()
            .filter_map(|d| {
                field(&d.key).map(|field| DraftView {
                    field,
                    text: d.text,
                    saved_at_ms: d.saved_at_ms,
                })
            })
            .collect())
    }

    /// Drop the draft of one field (the technician went back to what is committed).
    pub fn discard_draft(&self, order_id: &str, field: DraftField) -> Result<(), AppError> {
        lock(&self.store).discard_draft(&key(order_id, &field))?;
        Ok(())
    }
}
