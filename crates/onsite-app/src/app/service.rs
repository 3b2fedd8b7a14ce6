//! The console's Service settings screen: the centre's `ref:service` (follow-up window, retry
//! after no answer, complaint resolution time, maintenance interval per appliance category),
//! read by dispatchers and admins, and saved whole as a new version by admins — checked by
//! `ServiceSettings::validate` before anything is written, a refusal naming its form field. The
//! Follow-ups and Reminders screens read the settings as stored, so a saved change moves their
//! due times at once.

use onsite_domain::DocId;
use onsite_domain::household::APPLIANCE_CATEGORIES;
use onsite_domain::service::{self, MaintenanceInterval, ServiceSettings};

use super::followups::read_settings;
use super::{App, lock};
use crate::error::AppError;
use crate::view::*;

fn settings_view(s: &ServiceSettings, can_edit: bool) -> ServiceSettingsView {
    ServiceSettingsView {
        version: s.version,
        follow_up_within_hours: s.follow_up_within_hours,
        follow_up_retry_hours: s.follow_up_retry_hours,
        complaint_resolve_hours: s.complaint_resolve_hours,
        maintenance: s
            .maintenance
            .iter()
            .map(|m| MaintenanceRow {
                category: m.category.clone(),
                months: m.months,
                task: m.task.clone(),
            })
            .collect(),
        can_edit,
        categories: APPLIANCE_CATEGORIES
            .iter()
            .map(|c| CategoryView {
                id: c.id.to_owned(),
                zh_cn: c.zh_cn.to_owned(),
                en: c.en.to_owned(),
            })
            .collect(),
        max_hours: service::MAX_HOURS,
        max_months: service::MAX_MONTHS,
    }
}

/// The next version of `current` as the form asks for it; when the follow-ups started stays.
fn next_version(req: ServiceSettingsRequest, current: &ServiceSettings) -> ServiceSettings {
    ServiceSettings {
        schema: service::SCHEMA,
        version: current.version + 1,
        follow_ups_from_ms: current.follow_ups_from_ms,
        follow_up_within_hours: req.follow_up_within_hours,
        follow_up_retry_hours: req.follow_up_retry_hours,
        complaint_resolve_hours: req.complaint_resolve_hours,
        maintenance: req
            .maintenance
            .into_iter()
            .map(|m| MaintenanceInterval {
                category: m.category.trim().to_owned(),
                months: m.months,
                task: m.task.trim().to_owned(),
            })
            .collect(),
    }
}

impl App {
    /// The centre's service settings (dispatchers and admins; only admins may edit them).
    pub fn service_settings(&self) -> Result<ServiceSettingsView, AppError> {
        self.dispatcher()?;
        let settings = read_settings(&lock(&self.store))?;
        Ok(settings_view(&settings, self.is_admin()?))
    }

    /// Save `req` as the next version of the service settings (admins). Checked whole by the
    /// domain first: a refusal names its field and nothing is written.
    pub fn save_service_settings(
        &self,
        req: ServiceSettingsRequest,
    ) -> Result<ServiceSettingsView, AppError> {
        self.dispatcher()?;
        if !self.is_admin()? {
            return Err(AppError::ServiceAdminsOnly);
        }
        let saved = {
            let mut store = lock(&self.store);
            let next = next_version(req, &read_settings(&store)?);
            next.validate()?;
            store.update::<ServiceSettings, _>(&DocId::ServiceSettings, |d| {
                *d = next;
                Ok(())
            })?
        };
        self.nudge();
        Ok(settings_view(&saved, true))
    }
}
