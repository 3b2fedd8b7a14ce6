//! What the console's Service settings screen shows and sends (ts-rs, like the rest of
//! [`crate::view`]): the centre's `ref:service` — follow-up window, retry after no answer,
//! complaint resolution time, maintenance interval per appliance category — and the admin's new
//! version of it. The rules (`onsite_domain::service::ServiceSettings::validate`), the limits and
//! the category vocabulary (`onsite_domain::household::APPLIANCE_CATEGORIES`) come from the domain.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// One maintenance interval, as shown and as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct MaintenanceRow {
    /// An appliance category id (`air-conditioner`).
    pub category: String,
    /// Months from the last service (or the purchase) to the next.
    pub months: u32,
    /// What the maintenance order is about.
    pub task: String,
}

/// An appliance category the form offers, with its labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CategoryView {
    pub id: String,
    pub zh_cn: String,
    pub en: String,
}

/// The Service settings screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ServiceSettingsView {
    /// Raised by every saved change.
    pub version: u32,
    pub follow_up_within_hours: u32,
    pub follow_up_retry_hours: u32,
    pub complaint_resolve_hours: u32,
    pub maintenance: Vec<MaintenanceRow>,
    /// Whether the signed-in user may save a new version (admins); dispatchers only read.
    pub can_edit: bool,
    /// The categories the form offers, in order.
    pub categories: Vec<CategoryView>,
    /// The longest follow-up, retry or complaint time, in hours.
    pub max_hours: u32,
    /// The longest maintenance interval, in months.
    pub max_months: u32,
}

/// Arguments of `save_service_settings`: the whole new version (admins).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ServiceSettingsRequest {
    pub follow_up_within_hours: u32,
    pub follow_up_retry_hours: u32,
    pub complaint_resolve_hours: u32,
    pub maintenance: Vec<MaintenanceRow>,
}
