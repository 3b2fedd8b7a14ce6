//! Maintenance reminders: every appliance of a household whose category has a maintenance
//! interval in the service settings is due again that many calendar months after its last
//! service (the latest signed visit on it) or, never serviced, after its purchase. A month
//! later than the day's month end lands on that month's last day (31 January + 1 month =
//! 28/29 February). The due date is the centre's local date; the reminder is due from its local
//! midnight on.
//!
//! Each reminder has a stable key `<household>:<appliance>:<due date>`, so the dispatcher's
//! list and the relay's outbox treat it once. The dispatcher turns one into an order or
//! dismisses it with a reason; either is recorded on the household (`Household::reminders`),
//! after which that key is no longer due. A new service moves the due date, hence the key.
//! While a non-cancelled order on the appliance created since its last service is not yet
//! completed, the appliance is being looked after and no reminder is due.

use std::collections::{BTreeMap, BTreeSet};

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::household::{Household, OrderRequest};
use crate::numbering::Date;
use crate::order::{Appliance, DispatchStatus, Order};
use crate::reference::ServiceType;
use crate::service::ServiceSettings;
use crate::stats::{self, DAY, Month};
use crate::visit::Visit;
use crate::{DomainError, Millis};

/// What the dispatcher did with a reminder.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize, TS,
)]
pub enum ReminderOutcome {
    /// Turned into an order.
    Ordered,
    /// Dismissed with a reason (e.g. the customer declined, the appliance was replaced).
    Dismissed,
}

/// A reminder handled by a dispatcher, recorded on the household.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct ReminderAction {
    /// The reminder's [`Reminder::key`].
    #[key]
    pub key: String,
    pub outcome: ReminderOutcome,
    /// The order it became ([`ReminderOutcome::Ordered`]).
    pub order_id: Option<String>,
    /// Why it was dismissed ([`ReminderOutcome::Dismissed`]).
    pub reason: String,
    pub by: String,
    pub at_ms: Millis,
}

/// What the due date counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
pub enum Since {
    /// The latest signed visit on the appliance.
    LastService,
    /// The purchase (installation) date: never serviced.
    Purchase,
}

/// One maintenance reminder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Reminder {
    /// `<household>:<appliance>:<YYYY-MM-DD>`: the same reminder always has the same key.
    pub key: String,
    pub household_id: String,
    pub appliance_id: String,
    pub category: String,
    /// What the order will be about (the interval's task).
    pub task: String,
    pub months: u32,
    pub since: Since,
    #[ts(type = "number")]
    pub since_ms: Millis,
    /// The local due date, `YYYY-MM-DD`.
    pub due_date: String,
    /// Local midnight of the due date, in UTC milliseconds.
    #[ts(type = "number")]
    pub due_at_ms: Millis,
}

fn last_day(year: i32, month: u32) -> u32 {
    (28..=31)
        .rev()
        .find(|&d| Date::new(year, month, d).is_some())
        .unwrap_or(28)
}

/// `months` calendar months after `date`, on the last day of the month when it is shorter.
pub fn add_months(date: Date, months: u32) -> Date {
    let index = i64::from(date.year) * 12 + i64::from(date.month) - 1 + i64::from(months);
    let year = index.div_euclid(12) as i32;
    let month = index.rem_euclid(12) as u32 + 1;
    Date {
        year,
        month,
        day: date.day.min(last_day(year, month)),
    }
}

/// Local midnight of `date` at `utc_offset_ms`, in UTC milliseconds.
pub fn local_midnight(date: Date, utc_offset_ms: Millis) -> Millis {
    Month {
        year: date.year,
        month: date.month,
    }
    .start_ms(utc_offset_ms)
        + i64::from(date.day - 1) * DAY
}

fn local_date(at: Millis, utc_offset_ms: Millis) -> Date {
    Date::local(at, (utc_offset_ms / crate::MINUTE) as i32)
}

/// What the rules need of the orders and visits, gathered once: the latest signed visit per
/// (household, appliance) and the orders that have a signed visit.
struct Services<'a> {
    last: BTreeMap<(&'a str, &'a str), Millis>,
    signed_orders: BTreeSet<&'a str>,
}

impl<'a> Services<'a> {
    fn of(orders: &'a [Order], visits: &'a [Visit]) -> Services<'a> {
        let mut s = Services {
            last: BTreeMap::new(),
            signed_orders: BTreeSet::new(),
        };
        for c in stats::completions(orders, visits) {
            let key = (
                c.order.customer.household_id.as_str(),
                c.order.appliance_id.as_str(),
            );
            let at = s.last.entry(key).or_insert(c.signed_at_ms);
            *at = (*at).max(c.signed_at_ms);
            s.signed_orders.insert(c.order.order_id.as_str());
        }
        s
    }

    fn since(&self, household_id: &str, appliance: &Appliance) -> Option<(Since, Millis)> {
        self.last
            .get(&(household_id, appliance.id.as_str()))
            .map(|&at| (Since::LastService, at))
            .or_else(|| appliance.purchase_date_ms.map(|at| (Since::Purchase, at)))
    }
}

/// When the appliance was last serviced (its latest signed visit), else when it was bought.
pub fn since(
    household_id: &str,
    appliance: &Appliance,
    orders: &[Order],
    visits: &[Visit],
) -> Option<(Since, Millis)> {
    Services::of(orders, visits).since(household_id, appliance)
}

/// The next maintenance reminder of one appliance, due or not; `None` when its category has no
/// interval or neither a service nor a purchase date is known.
pub fn next(
    settings: &ServiceSettings,
    household_id: &str,
    appliance: &Appliance,
    orders: &[Order],
    visits: &[Visit],
    utc_offset_ms: Millis,
) -> Option<Reminder> {
    let services = Services::of(orders, visits);
    next_of(settings, household_id, appliance, &services, utc_offset_ms)
}

fn next_of(
    settings: &ServiceSettings,
    household_id: &str,
    appliance: &Appliance,
    services: &Services<'_>,
    utc_offset_ms: Millis,
) -> Option<Reminder> {
    let interval = settings.interval(&appliance.category)?;
    let (since, since_ms) = services.since(household_id, appliance)?;
    let due = add_months(local_date(since_ms, utc_offset_ms), interval.months);
    let due_date = format!("{:04}-{:02}-{:02}", due.year, due.month, due.day);
    Some(Reminder {
        key: format!("{household_id}:{}:{due_date}", appliance.id),
        household_id: household_id.to_owned(),
        appliance_id: appliance.id.clone(),
        category: appliance.category.clone(),
        task: interval.task.clone(),
        months: interval.months,
        since,
        since_ms,
        due_date,
        due_at_ms: local_midnight(due, utc_offset_ms),
    })
}

/// Whether an order on the appliance created after `after` is neither cancelled nor completed.
fn pending_order(r: &Reminder, orders: &[Order], services: &Services<'_>) -> bool {
    orders.iter().any(|o| {
        o.customer.household_id == r.household_id
            && o.appliance_id == r.appliance_id
            && o.created_at_ms > r.since_ms
            && o.status != DispatchStatus::Cancelled
            && !services.signed_orders.contains(o.order_id.as_str())
    })
}

/// The next reminder of every appliance that still calls for one, due or not yet: not handled
/// on the household and no order for the appliance under way. Earliest due first, then by key.
/// Time only decides which of them are due ([`due`]), so a relay can keep the earliest of the
/// not-yet-due ones and look at the household again then, not before.
pub fn open(
    settings: &ServiceSettings,
    households: &[Household],
    orders: &[Order],
    visits: &[Visit],
    utc_offset_ms: Millis,
) -> Vec<Reminder> {
    let services = Services::of(orders, visits);
    let services = &services;
    let mut out: Vec<Reminder> = households
        .iter()
        .flat_map(|h| {
            h.appliances.iter().filter_map(move |a| {
                let r = next_of(settings, &h.household_id, a, services, utc_offset_ms)?;
                let handled = h.reminders.iter().any(|x| x.key == r.key);
                (!handled && !pending_order(&r, orders, services)).then_some(r)
            })
        })
        .collect();
    out.sort_by(|a, b| {
        a.due_at_ms
            .cmp(&b.due_at_ms)
            .then_with(|| a.key.cmp(&b.key))
    });
    out
}

/// Every reminder due at `now`: the [`open`] ones whose due instant is reached. Earliest due
/// first, then by key.
pub fn due(
    settings: &ServiceSettings,
    households: &[Household],
    orders: &[Order],
    visits: &[Visit],
    now: Millis,
    utc_offset_ms: Millis,
) -> Vec<Reminder> {
    let mut out = open(settings, households, orders, visits, utc_offset_ms);
    out.retain(|r| r.due_at_ms <= now);
    out
}

/// The due reminder `key` of `household`, or [`DomainError::ReminderNotDue`].
pub fn find_due(
    settings: &ServiceSettings,
    household: &Household,
    orders: &[Order],
    visits: &[Visit],
    key: &str,
    now: Millis,
    utc_offset_ms: Millis,
) -> Result<Reminder, DomainError> {
    due(
        settings,
        std::slice::from_ref(household),
        orders,
        visits,
        now,
        utc_offset_ms,
    )
    .into_iter()
    .find(|r| r.key == key)
    .ok_or_else(|| DomainError::ReminderNotDue(key.to_owned()))
}

/// The maintenance order a reminder becomes, for `Household::order_for`.
pub fn order_request(reminder: &Reminder, order_id: &str, order_no: &str) -> OrderRequest {
    OrderRequest {
        order_id: order_id.to_owned(),
        order_no: order_no.to_owned(),
        appliance_id: reminder.appliance_id.clone(),
        service_type: ServiceType::Maintenance,
        problem: reminder.task.clone(),
        schedule: None,
    }
}

fn record(household: &mut Household, action: ReminderAction) -> Result<(), DomainError> {
    if household.reminders.iter().any(|x| x.key == action.key) {
        return Err(DomainError::ReminderNotDue(action.key));
    }
    household.reminders.push(action);
    Ok(())
}

/// Record that `reminder` became order `order_id`.
pub fn mark_ordered(
    household: &mut Household,
    reminder: &Reminder,
    order_id: &str,
    by: &str,
    now: Millis,
) -> Result<(), DomainError> {
    record(
        household,
        ReminderAction {
            key: reminder.key.clone(),
            outcome: ReminderOutcome::Ordered,
            order_id: Some(order_id.to_owned()),
            reason: String::new(),
            by: by.to_owned(),
            at_ms: now,
        },
    )
}

/// Dismiss `reminder` with a reason (required).
pub fn dismiss(
    household: &mut Household,
    reminder: &Reminder,
    reason: &str,
    by: &str,
    now: Millis,
) -> Result<(), DomainError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(DomainError::ReminderReasonRequired);
    }
    record(
        household,
        ReminderAction {
            key: reminder.key.clone(),
            outcome: ReminderOutcome::Dismissed,
            order_id: None,
            reason: reason.to_owned(),
            by: by.to_owned(),
            at_ms: now,
        },
    )
}
