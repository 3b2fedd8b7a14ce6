//! What a visit still needs before the customer may sign, and before it counts as complete. The
//! app shows this list; the same function refuses signing, so the screen and the rule never differ.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::DomainError;
use crate::progress::{self, ProgressKind};
use crate::reference::{ItemKind, PhotoPolicy, TemplateLibrary};
use crate::visit::{Outcome, Visit};

/// One thing that is missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Missing {
    /// "Work done" has not been recorded.
    WorkNotDone,
    /// A required item has no answer.
    ItemUnanswered {
        template_id: String,
        item_id: String,
    },
    /// A reading outside its range carries no note.
    ReadingOutOfRange {
        template_id: String,
        item_id: String,
    },
    /// An answer does not fit its item (e.g. a reading in another unit after a template change).
    ItemInvalid {
        template_id: String,
        item_id: String,
    },
    /// A required photo is missing.
    PhotoMissing {
        template_id: String,
        item_id: String,
    },
    /// The one-stop home check lists no appliance (or is not marked not applicable).
    HomeCheckMissing,
    /// The customer has not confirmed this.
    ConfirmationMissing { item_id: String },
    /// No satisfaction rating.
    RatingMissing,
    /// No signature.
    SignatureMissing,
    /// A checklist template the visit refers to is not on this device.
    TemplateMissing { template_id: String, version: u32 },
}

/// Which kind of thing is missing: the `code` tag of a [`Missing`] on the wire. Its own
/// vocabulary (what the screen lists before signing), not an error [`crate::Code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum MissingKind {
    WorkNotDone,
    ItemUnanswered,
    ReadingOutOfRange,
    ItemInvalid,
    PhotoMissing,
    HomeCheckMissing,
    ConfirmationMissing,
    RatingMissing,
    SignatureMissing,
    TemplateMissing,
}

impl Missing {
    /// Which kind of thing is missing (the `code` tag of its JSON).
    pub fn kind(&self) -> MissingKind {
        match self {
            Missing::WorkNotDone => MissingKind::WorkNotDone,
            Missing::ItemUnanswered { .. } => MissingKind::ItemUnanswered,
            Missing::ReadingOutOfRange { .. } => MissingKind::ReadingOutOfRange,
            Missing::ItemInvalid { .. } => MissingKind::ItemInvalid,
            Missing::PhotoMissing { .. } => MissingKind::PhotoMissing,
            Missing::HomeCheckMissing => MissingKind::HomeCheckMissing,
            Missing::ConfirmationMissing { .. } => MissingKind::ConfirmationMissing,
            Missing::RatingMissing => MissingKind::RatingMissing,
            Missing::SignatureMissing => MissingKind::SignatureMissing,
            Missing::TemplateMissing { .. } => MissingKind::TemplateMissing,
        }
    }
}

/// A short English list for logs and error messages; the UI translates each [`Missing`] itself.
pub fn describe(missing: &[Missing]) -> String {
    missing
        .iter()
        .map(|m| match m {
            Missing::WorkNotDone => "work not marked done".to_owned(),
            Missing::ItemUnanswered { item_id, .. } => format!("'{item_id}' unanswered"),
            Missing::ReadingOutOfRange { item_id, .. } => {
                format!("'{item_id}' out of range without a note")
            }
            Missing::ItemInvalid { item_id, .. } => format!("'{item_id}' answer does not fit"),
            Missing::PhotoMissing { item_id, .. } => format!("'{item_id}' needs a photo"),
            Missing::HomeCheckMissing => "home check empty".to_owned(),
            Missing::ConfirmationMissing { item_id } => format!("customer to confirm '{item_id}'"),
            Missing::RatingMissing => "rating".to_owned(),
            Missing::SignatureMissing => "signature".to_owned(),
            Missing::TemplateMissing {
                template_id,
                version,
            } => {
                format!("template {template_id}@{version}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether an answer fits an item of `kind` (used when answering and when re-checking merged data).
pub(crate) fn outcome_fits(kind: &ItemKind, outcome: &Outcome) -> Result<(), &'static str> {
    match (kind, outcome) {
        (_, Outcome::NotApplicable { .. }) => match kind {
            ItemKind::CustomerConfirm { .. } | ItemKind::SignedRecord => {
                Err("confirmed by the customer at signing, not by the technician")
            }
            _ => Ok(()),
        },
        (ItemKind::Tick | ItemKind::Evidence | ItemKind::HomeCheck, Outcome::Done) => Ok(()),
        (ItemKind::PassFail, Outcome::Pass | Outcome::Fail) => Ok(()),
        (ItemKind::Reading { .. }, Outcome::Reading { .. }) => Ok(()),
        (ItemKind::Tick | ItemKind::Evidence | ItemKind::HomeCheck, _) => {
            Err("done or not applicable")
        }
        (ItemKind::PassFail, _) => Err("pass, fail or not applicable"),
        (ItemKind::Reading { .. }, _) => Err("a reading or not applicable"),
        (ItemKind::CustomerConfirm { .. } | ItemKind::SignedRecord, _) => {
            Err("confirmed by the customer at signing, not by the technician")
        }
    }
}

/// Everything missing before the customer may sign. Empty means ready to sign.
pub fn missing_for_signing(visit: &Visit, library: &TemplateLibrary) -> Vec<Missing> {
    let mut out = Vec::new();
    if !matches!(
        progress::current(&visit.events),
        Some(ProgressKind::WorkDone | ProgressKind::Reopened)
    ) && !visit.is_signed()
    {
        out.push(Missing::WorkNotDone);
    }
    for inst in visit.checklists.values() {
        let Ok(t) = library.get(&inst.template_id, inst.version) else {
            out.push(Missing::TemplateMissing {
                template_id: inst.template_id.clone(),
                version: inst.version,
            });
            continue;
        };
        for item in &t.items {
            let ids = || (t.id.clone(), item.id.clone());
            match &item.kind {
                ItemKind::SignedRecord => continue,
                ItemKind::CustomerConfirm { confirmation } => {
                    if item.required && !visit.confirmed(*confirmation) {
                        out.push(Missing::ConfirmationMissing {
                            item_id: item.id.clone(),
                        });
                    }
                    continue;
                }
                _ => {}
            }
            let Some(ans) = inst.answers.get(&item.id) else {
                if item.required {
                    let (template_id, item_id) = ids();
                    out.push(Missing::ItemUnanswered {
                        template_id,
                        item_id,
                    });
                }
                continue;
            };
            if outcome_fits(&item.kind, &ans.outcome).is_err() {
                let (template_id, item_id) = ids();
                out.push(Missing::ItemInvalid {
                    template_id,
                    item_id,
                });
                continue;
            }
            match (&item.kind, &ans.outcome) {
                (ItemKind::Reading { unit, min, max }, Outcome::Reading { value, unit: u }) => {
                    if u != unit || !value.is_finite() {
                        let (template_id, item_id) = ids();
                        out.push(Missing::ItemInvalid {
                            template_id,
                            item_id,
                        });
                    } else if (*value < *min || *value > *max) && ans.note.trim().is_empty() {
                        let (template_id, item_id) = ids();
                        out.push(Missing::ReadingOutOfRange {
                            template_id,
                            item_id,
                        });
                    }
                }
                (_, Outcome::NotApplicable { reason }) if reason.trim().is_empty() => {
                    let (template_id, item_id) = ids();
                    out.push(Missing::ItemInvalid {
                        template_id,
                        item_id,
                    });
                }
                (ItemKind::HomeCheck, Outcome::Done) if visit.home_checks.is_empty() => {
                    out.push(Missing::HomeCheckMissing);
                }
                _ => {}
            }
            let na = matches!(ans.outcome, Outcome::NotApplicable { .. });
            if item.photo == PhotoPolicy::Required && !na && ans.photos.is_empty() {
                let (template_id, item_id) = ids();
                out.push(Missing::PhotoMissing {
                    template_id,
                    item_id,
                });
            }
        }
    }
    if visit.rating.is_none() {
        out.push(Missing::RatingMissing);
    }
    out
}

/// Everything missing before the visit is complete: what signing needs, plus the signature.
pub fn missing_for_completion(visit: &Visit, library: &TemplateLibrary) -> Vec<Missing> {
    let mut out = missing_for_signing(visit, library);
    if !visit.is_signed() {
        out.push(Missing::SignatureMissing);
    }
    out
}

/// `Ok` when the customer may sign now, else [`DomainError::Incomplete`] with the precise list.
pub fn ready_to_sign(visit: &Visit, library: &TemplateLibrary) -> Result<(), DomainError> {
    let missing = missing_for_signing(visit, library);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(DomainError::Incomplete(missing))
    }
}

/// Who satisfies a checklist item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnsweredBy {
    /// The technician answers it on the checklist.
    Technician,
    /// The customer's confirmation at hand-over satisfies it.
    Customer,
    /// The customer's signature on the record satisfies it.
    Signature,
}

/// Where one checklist item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    /// Answered, confirmed or signed, and nothing about it blocks signing.
    Done,
    /// Not done yet, and optional: it blocks nothing.
    Open,
    /// Blocks signing (for the signature item: blocks completion until the customer signs).
    Missing,
}

/// One item of a checklist with who satisfies it and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemProgress {
    pub item_id: String,
    pub by: AnsweredBy,
    pub state: ItemState,
}

/// One checklist of a visit, item by item, with the counts the checklist screen shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecklistProgress {
    pub template_id: String,
    pub version: u32,
    /// In template order.
    pub items: Vec<ItemProgress>,
    /// Required items the technician answers.
    pub required_total: u32,
    /// How many of those no longer block signing.
    pub required_done: u32,
}

/// Who satisfies an item of `kind`.
pub fn answered_by(kind: &ItemKind) -> AnsweredBy {
    match kind {
        ItemKind::CustomerConfirm { .. } => AnsweredBy::Customer,
        ItemKind::SignedRecord => AnsweredBy::Signature,
        _ => AnsweredBy::Technician,
    }
}

/// Whether `m` is about `item` of template `template_id`.
fn concerns(m: &Missing, template_id: &str, item: &crate::reference::TemplateItem) -> bool {
    match m {
        Missing::ItemUnanswered {
            template_id: t,
            item_id,
        }
        | Missing::ReadingOutOfRange {
            template_id: t,
            item_id,
        }
        | Missing::ItemInvalid {
            template_id: t,
            item_id,
        }
        | Missing::PhotoMissing {
            template_id: t,
            item_id,
        } => t == template_id && item_id == &item.id,
        Missing::HomeCheckMissing => item.kind == ItemKind::HomeCheck,
        Missing::ConfirmationMissing { item_id } => item_id == &item.id,
        _ => false,
    }
}

/// Every checklist of the visit whose template is on this device, item by item: who satisfies
/// each item and whether it is done, open or still blocking — from the same rules as
/// [`missing_for_signing`], so the screen and the refusal never differ.
pub fn checklist_progress(visit: &Visit, library: &TemplateLibrary) -> Vec<ChecklistProgress> {
    let missing = missing_for_signing(visit, library);
    let signed = visit.is_signed();
    visit
        .checklists
        .values()
        .filter_map(|inst| Some((inst, library.get(&inst.template_id, inst.version).ok()?)))
        .map(|(inst, t)| {
            let items: Vec<ItemProgress> = t
                .items
                .iter()
                .map(|item| {
                    let by = answered_by(&item.kind);
                    let done = match (&item.kind, by) {
                        (ItemKind::CustomerConfirm { confirmation }, _) => {
                            visit.confirmed(*confirmation)
                        }
                        (_, AnsweredBy::Signature) => signed,
                        _ => inst.answers.contains_key(&item.id),
                    };
                    let blocks = missing.iter().any(|m| concerns(m, &t.id, item))
                        || (by == AnsweredBy::Signature && item.required && !signed);
                    let state = match (blocks, done) {
                        (true, _) => ItemState::Missing,
                        (false, true) => ItemState::Done,
                        (false, false) => ItemState::Open,
                    };
                    ItemProgress {
                        item_id: item.id.clone(),
                        by,
                        state,
                    }
                })
                .collect();
            let counted = || {
                t.items
                    .iter()
                    .zip(&items)
                    .filter(|(i, p)| i.required && p.by == AnsweredBy::Technician)
            };
            ChecklistProgress {
                template_id: t.id.clone(),
                version: t.version,
                required_total: counted().count() as u32,
                required_done: counted()
                    .filter(|(_, p)| p.state == ItemState::Done)
                    .count() as u32,
                items,
            }
        })
        .collect()
}
