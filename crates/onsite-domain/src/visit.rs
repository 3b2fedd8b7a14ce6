//! The visit (`visit:<order>:<technician>`): everything one technician records on site for one
//! order, owned by that technician. Signed content is frozen (see [`crate::record`]).

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::order::Order;
use crate::progress::ProgressEvent;
use crate::reference::{Confirmation, TemplateLibrary};
use crate::templates::HAIER_12345;
use crate::{DomainError, Millis};

/// A reference to a photo attachment by the SHA-256 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct PhotoRef {
    #[key]
    pub sha256: String,
    pub taken_at_ms: Millis,
}

/// How a checklist item was answered.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Outcome {
    Done,
    NotApplicable { reason: String },
    Pass,
    Fail,
    Reading { value: f64, unit: String },
}

/// One answered item.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct ItemAnswer {
    pub outcome: Outcome,
    pub note: String,
    pub answered_at_ms: Millis,
    pub photos: Vec<PhotoRef>,
}

/// The checklist of one template, at the version the visit started with.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct ChecklistInstance {
    pub template_id: String,
    pub version: u32,
    /// Answers by item id.
    pub answers: BTreeMap<String, ItemAnswer>,
}

/// Where a part came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub enum StockSource {
    /// The technician's personal stock (个人备件库); counts against their ledger.
    Personal,
    /// Ordered from the warehouse / catalogue for this job.
    Warehouse,
}

/// A spare part used on the job.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct PartUse {
    #[key]
    pub id: String,
    pub part_no: String,
    /// Catalogue name at the time of use, so the record stays readable.
    pub name_zh_cn: String,
    pub name_en: String,
    pub qty: i64,
    pub unit_price_cents: i64,
    pub faulty_serial: String,
    pub replacement_serial: String,
    pub source: StockSource,
}

/// A fee charged, copied from the published schedule when picked.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct FeeLine {
    #[key]
    pub id: String,
    pub code: String,
    pub label_zh_cn: String,
    pub label_en: String,
    pub qty: i64,
    pub unit_price_cents: i64,
}

impl FeeLine {
    pub fn total_cents(&self) -> i64 {
        self.qty * self.unit_price_cents
    }
}

/// Result of checking one other appliance in the household (五个一: one-stop check). Crosses to
/// the UI as is (ts-rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize, TS)]
pub enum CheckResult {
    Ok,
    NeedsService,
}

/// One appliance checked in the one-stop home check.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct HomeCheck {
    #[key]
    pub id: String,
    pub appliance: String,
    pub result: CheckResult,
    pub note: String,
}

/// The customer's satisfaction rating.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Rating {
    pub stars: u32,
    pub comment: String,
}

/// The customer's signature on the service record.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Signature {
    #[key]
    pub record_hash: String,
    pub signer_name: String,
    /// The technician's name and certificate as shown to the customer at signing (一证件).
    pub technician_name: String,
    pub certificate_id: String,
    /// SHA-256 of the normalised signature PNG (an attachment).
    pub image_sha256: String,
    pub signed_at_ms: Millis,
    /// Hash of each section of the canonical record, to tell which part changed after signing.
    pub sections: BTreeMap<String, String>,
    /// Set when this signature was superseded by a deliberate reopen.
    pub reopened_at_ms: Option<Millis>,
    pub reopen_reason: String,
}

/// The visit document.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Visit {
    pub schema: u32,
    pub order_id: String,
    pub technician_id: String,
    pub events: Vec<ProgressEvent>,
    /// Checklists by template id: the service type's template and `haier-12345`.
    pub checklists: BTreeMap<String, ChecklistInstance>,
    pub parts: Vec<PartUse>,
    pub fees: Vec<FeeLine>,
    pub diagnosis: String,
    pub work_performed: String,
    /// What the customer confirmed on the hand-over screen.
    pub confirmations: BTreeMap<String, bool>,
    pub rating: Option<Rating>,
    pub home_checks: Vec<HomeCheck>,
    pub signature: Option<Signature>,
    /// Earlier signatures, kept when a record is deliberately reopened and signed again.
    pub signature_history: Vec<Signature>,
}

/// Key of a confirmation in [`Visit::confirmations`].
pub fn confirmation_key(c: Confirmation) -> &'static str {
    match c {
        Confirmation::UsageExplained => "usage.explained",
        Confirmation::NoWater => "no.water",
        Confirmation::NoSmoke => "no.smoke",
        Confirmation::NoMeal => "no.meal",
        Confirmation::NoGift => "no.gift",
    }
}

impl Visit {
    /// Start the visit for `technician_id` with the newest approved templates for the order's
    /// service type plus `haier-12345`.
    pub fn start(
        order: &Order,
        technician_id: &str,
        library: &TemplateLibrary,
    ) -> Result<Visit, DomainError> {
        let mut checklists = BTreeMap::new();
        for id in [HAIER_12345, order.service_type.template_id()] {
            let t = library
                .latest(id)
                .ok_or_else(|| DomainError::UnknownTemplate {
                    template_id: id.to_owned(),
                    version: 0,
                })?;
            checklists.insert(
                id.to_owned(),
                ChecklistInstance {
                    template_id: id.to_owned(),
                    version: t.version,
                    answers: BTreeMap::new(),
                },
            );
        }
        Ok(Visit {
            schema: crate::templates::SCHEMA,
            order_id: order.order_id.clone(),
            technician_id: technician_id.to_owned(),
            events: Vec::new(),
            checklists,
            parts: Vec::new(),
            fees: Vec::new(),
            diagnosis: String::new(),
            work_performed: String::new(),
            confirmations: Confirmation::ALL
                .iter()
                .map(|c| (confirmation_key(*c).to_owned(), false))
                .collect(),
            rating: None,
            home_checks: Vec::new(),
            signature: None,
            signature_history: Vec::new(),
        })
    }

    pub fn confirmed(&self, c: Confirmation) -> bool {
        self.confirmations
            .get(confirmation_key(c))
            .copied()
            .unwrap_or(false)
    }

    pub fn fees_total_cents(&self) -> i64 {
        self.fees.iter().map(FeeLine::total_cents).sum()
    }

    pub fn parts_total_cents(&self) -> i64 {
        self.parts.iter().map(|p| p.qty * p.unit_price_cents).sum()
    }

    pub fn is_signed(&self) -> bool {
        self.signature.is_some()
    }
}
