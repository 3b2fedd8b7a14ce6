//! What the console's Technicians screen shows and sends (ts-rs, like the rest of
//! [`crate::view`]): every technician's profile with its certificate state now, and the admin's
//! edit and the withdrawal / reinstatement requests.

use onsite_domain::reference::{CertificateActionKind, CertificateState, ServiceType};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The Technicians screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TechniciansView {
    #[ts(type = "number")]
    pub now_ms: i64,
    /// The certificate's star levels (the edit form's range).
    pub stars_min: u32,
    pub stars_max: u32,
    /// What the signed-in user's role may do (`onsite_domain::profile::may`).
    pub can_edit: bool,
    pub can_withdraw: bool,
    pub can_reinstate: bool,
    /// By technician id.
    pub technicians: Vec<TechnicianView>,
}

/// One technician's profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TechnicianView {
    pub technician_id: String,
    pub name: String,
    pub qualifications: Vec<ServiceType>,
    pub certificate_id: String,
    pub certificate_stars: u32,
    /// The service centre's local dates, `YYYY-MM-DD` (what the edit form takes back).
    pub valid_from: Option<String>,
    pub valid_until: String,
    /// The certificate's state now (valid, expired, withdrawn).
    pub certificate: CertificateState,
    #[ts(type = "number | null")]
    pub withdrawn_at_ms: Option<i64>,
    /// Withdrawals and reinstatements, newest first.
    pub actions: Vec<CertificateActionView>,
    /// Their orders (not cancelled) scheduled today.
    pub load_today: u32,
}

/// One withdrawal or reinstatement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CertificateActionView {
    pub kind: CertificateActionKind,
    pub certificate_id: String,
    pub by: String,
    #[ts(type = "number")]
    pub at_ms: i64,
    pub reason: String,
}

/// Arguments of `save_profile` (admins): dates as the service centre's local `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ProfileEditRequest {
    pub technician_id: String,
    pub qualifications: Vec<ServiceType>,
    pub certificate_id: String,
    pub stars: u32,
    pub valid_from: String,
    pub valid_until: String,
}

/// Arguments of `withdraw_certificate` and `reinstate_certificate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CertificateActionRequest {
    pub technician_id: String,
    pub reason: String,
}
