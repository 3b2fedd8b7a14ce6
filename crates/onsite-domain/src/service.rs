//! The centre's service settings (`ref:service`): how soon after a completion the customer gets
//! the follow-up call (回访), when to try again after no answer, how long a complaint may stay
//! open, and the maintenance interval per appliance category. Data, versioned, not code; edited
//! by dispatchers/admins, read by every device and by the relay (which sends the reminders).

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::household::{Field, in_field};
use crate::{DomainError, HOUR, Millis};

/// Schema of the `ref:service` document.
pub const SCHEMA: u32 = 1;

/// Longest follow-up, retry or complaint time: 90 days.
pub const MAX_HOURS: u32 = 90 * 24;
/// Longest maintenance interval: ten years.
pub const MAX_MONTHS: u32 = 120;

/// How often one appliance category needs maintenance.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct MaintenanceInterval {
    /// An appliance category as households record it, e.g. `air-conditioner`.
    #[key]
    pub category: String,
    /// Months from the last service (or the purchase) to the next.
    pub months: u32,
    /// What the maintenance order is about, e.g. "空调清洗保养 / Air-conditioner cleaning".
    pub task: String,
}

/// The service settings document.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct ServiceSettings {
    pub schema: u32,
    /// Raised at every change.
    pub version: u32,
    /// Completions signed before this get no follow-up call (the day the centre started them).
    pub follow_ups_from_ms: Millis,
    /// The customer is called at most this long after the signature.
    pub follow_up_within_hours: u32,
    /// After no answer, the next try is due this long after the call.
    pub follow_up_retry_hours: u32,
    /// A complaint is to be resolved within this long of being received.
    pub complaint_resolve_hours: u32,
    pub maintenance: Vec<MaintenanceInterval>,
}

impl ServiceSettings {
    /// Refuse settings the rules cannot work with; nothing is saved from bad settings. A refused
    /// hour or maintenance row names its form field ([`DomainError::InField`]; rows by index).
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.version == 0 {
            return Err(DomainError::ServiceBadVersion);
        }
        for (hours, field, what) in [
            (
                self.follow_up_within_hours,
                Field::FollowUpWithinHours,
                "follow-up time",
            ),
            (
                self.follow_up_retry_hours,
                Field::FollowUpRetryHours,
                "retry time after no answer",
            ),
            (
                self.complaint_resolve_hours,
                Field::ComplaintResolveHours,
                "complaint resolution time",
            ),
        ] {
            if hours == 0 || hours > MAX_HOURS {
                return Err(in_field(field, None)(DomainError::ServiceBadHours(what)));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, m) in self.maintenance.iter().enumerate() {
            let at = |field| in_field(field, Some(i));
            let category = m.category.trim();
            if category.is_empty() {
                return Err(at(Field::Category)(DomainError::ServiceBadInterval(
                    m.category.clone(),
                )));
            }
            if m.months == 0 || m.months > MAX_MONTHS {
                return Err(at(Field::Months)(DomainError::ServiceBadInterval(
                    m.category.clone(),
                )));
            }
            if m.task.trim().is_empty() {
                return Err(at(Field::Task)(DomainError::ServiceTaskMissing(
                    m.category.clone(),
                )));
            }
            if !seen.insert(category) {
                return Err(at(Field::Category)(DomainError::ServiceDuplicateCategory(
                    category.to_owned(),
                )));
            }
        }
        Ok(())
    }

    /// The maintenance interval of `category`, if the centre keeps one.
    pub fn interval(&self, category: &str) -> Option<&MaintenanceInterval> {
        self.maintenance.iter().find(|m| m.category == category)
    }

    pub fn follow_up_within_ms(&self) -> Millis {
        Millis::from(self.follow_up_within_hours) * HOUR
    }

    pub fn follow_up_retry_ms(&self) -> Millis {
        Millis::from(self.follow_up_retry_hours) * HOUR
    }

    pub fn complaint_resolve_ms(&self) -> Millis {
        Millis::from(self.complaint_resolve_hours) * HOUR
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Code;

    fn code(s: &ServiceSettings) -> Option<Code> {
        s.validate().err().map(|e| e.code())
    }

    #[test]
    fn the_seed_settings_are_valid() {
        let s = crate::seed::service_settings(0);
        assert_eq!(
            s.validate(),
            Ok(()),
            "the demo settings must pass validation"
        );
        assert_eq!(
            s.interval("air-conditioner").map(|m| m.months),
            Some(12),
            "air-conditioners are cleaned yearly in the demo"
        );
        assert_eq!(
            s.interval("water-purifier").map(|m| m.months),
            Some(6),
            "purifier filters every six months"
        );
    }

    #[test]
    fn bad_settings_are_refused_with_a_code() {
        let good = crate::seed::service_settings(0);
        let mut s = good.clone();
        s.version = 0;
        assert_eq!(code(&s), Some(Code::ServiceBadVersion), "version 0");
        let mut s = good.clone();
        s.follow_up_within_hours = 0;
        assert_eq!(code(&s), Some(Code::ServiceBadHours), "no time to call");
        let mut s = good.clone();
        s.complaint_resolve_hours = MAX_HOURS + 1;
        assert_eq!(code(&s), Some(Code::ServiceBadHours), "over 90 days");
        let mut s = good.clone();
        s.maintenance[0].months = 0;
        assert_eq!(code(&s), Some(Code::ServiceBadInterval), "0 months");
        let mut s = good.clone();
        s.maintenance[0].months = MAX_MONTHS + 1;
        assert_eq!(code(&s), Some(Code::ServiceBadInterval), "over ten years");
        let mut s = good.clone();
        s.maintenance[0].category = " ".into();
        assert_eq!(code(&s), Some(Code::ServiceBadInterval), "no category");
        let mut s = good.clone();
        s.maintenance[0].task = String::new();
        assert_eq!(code(&s), Some(Code::ServiceTaskMissing), "no task");
        let mut s = good.clone();
        let again = s.maintenance[0].clone();
        s.maintenance.push(again);
        assert_eq!(
            code(&s),
            Some(Code::ServiceDuplicateCategory),
            "same category twice"
        );
    }

    #[test]
    fn a_refusal_names_its_form_field() {
        use crate::household::FieldRef;
        let field = |s: &ServiceSettings| s.validate().err().and_then(|e| e.field());
        let at = |field, index| Some(FieldRef { field, index });
        let good = crate::seed::service_settings(0);
        let mut s = good.clone();
        s.follow_up_retry_hours = 0;
        assert_eq!(
            field(&s),
            at(Field::FollowUpRetryHours, None),
            "retry hours"
        );
        let mut s = good.clone();
        s.complaint_resolve_hours = MAX_HOURS + 1;
        assert_eq!(
            field(&s),
            at(Field::ComplaintResolveHours, None),
            "complaint"
        );
        let mut s = good.clone();
        s.maintenance[1].months = 0;
        assert_eq!(field(&s), at(Field::Months, Some(1)), "row 1's months");
        let mut s = good.clone();
        s.maintenance[2].task = " ".into();
        assert_eq!(field(&s), at(Field::Task, Some(2)), "row 2's task");
        let mut s = good.clone();
        s.maintenance[2].category = s.maintenance[0].category.clone();
        assert_eq!(
            field(&s),
            at(Field::Category, Some(2)),
            "the second row naming a category again is the one refused"
        );
    }
}
