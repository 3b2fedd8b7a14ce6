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
