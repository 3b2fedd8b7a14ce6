//! The demo job as tests use it: the reference documents an edit is checked against (and the
//! [`EditContext`] built from them), and the signed demo job built from
//! [`seed::job_edits`] plus the customer's signature.

use onsite_domain::edit::{self, EditContext, VisitEdit};
use onsite_domain::order::Order;
use onsite_domain::reference::{
    FeeSchedule, PartsCatalogue, ServiceType, TechnicianProfile, TemplateLibrary,
};
use onsite_domain::visit::Visit;
use onsite_domain::{DomainError, HOUR, Millis, seed, templates};

use crate::DAY;

/// The reference documents and device an edit is checked against; [`Reference::context`] builds
/// the [`EditContext`] for one order at one instant.
#[derive(Debug, Clone)]
pub struct Reference {
    pub library: TemplateLibrary,
    pub fees: FeeSchedule,
    pub parts: PartsCatalogue,
    pub profile: TechnicianProfile,
    pub device_id: String,
}

impl Reference {
    /// The demo company's documents (built-in templates, seed fees and parts, both in force
    /// before [`DAY`]) for `profile`'s device `dev-<technician>`.
    pub fn demo(profile: TechnicianProfile) -> Reference {
        Reference {
            library: templates::builtin_library(),
            fees: seed::fee_schedule(DAY - HOUR),
            parts: seed::parts_catalogue(),
            device_id: format!("dev-{}", profile.technician_id),
            profile,
        }
    }

    /// Use this fee schedule instead of the demo one.
    pub fn with_fees(mut self, fees: FeeSchedule) -> Reference {
        self.fees = fees;
        self
    }

    /// Record edits as made on `device_id`.
    pub fn with_device(mut self, device_id: &str) -> Reference {
        self.device_id = device_id.to_owned();
        self
    }

    /// The context an edit of `order`'s visit made at `now` is checked against.
    pub fn context<'a>(&'a self, order: &'a Order, now: Millis) -> EditContext<'a> {
        EditContext {
            order,
            library: &self.library,
            fees: &self.fees,
            parts: &self.parts,
            profile: &self.profile,
            device_id: &self.device_id,
            now,
        }
    }

    /// Apply `edit` to `visit` through the domain's rules at `now`.
    pub fn apply(
        &self,
        visit: &mut Visit,
        order: &Order,
        edit: VisitEdit,
        now: Millis,
    ) -> Result<(), DomainError> {
        edit::apply(visit, edit, &self.context(order, now))
    }
}

/// Every edit of the demo job of `service_type` ([`seed::job_edits`]: progress, checklist,
/// parts, fees, home check, confirmations and rating) followed by the customer's signature by
/// `signer_name` with the image `signature_sha256`. Ids start with `prefix`.
pub fn signed_job_edits(
    service_type: ServiceType,
    prefix: &str,
    signer_name: &str,
    signature_sha256: &str,
) -> Vec<VisitEdit> {
    let mut edits = seed::job_edits(service_type, prefix);
    edits.push(seed::sign_edit(prefix, signer_name, signature_sha256));
    edits
}

/// A small real PNG (one black pixel) standing in for the signature pad's output.
pub fn signature_png() -> Vec<u8> {
    vec![
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0,
        0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0, 0x3a, 0x7e, 0x9b, 0x55, 0, 0, 0, 0x0a, 0x49, 0x44,
        0x41, 0x54, 0x08, 0xd7, 0x63, 0x60, 0, 0, 0, 2, 0, 1, 0xe2, 0x21, 0xbc, 0x33, 0, 0, 0, 0,
        0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ]
}
