//! The console's Reminders screen: the maintenance reminders due now
//! (`onsite_domain::reminder::due`, from the households, orders and visits on this device and
//! the centre's `ref:service`), one click turning one into a maintenance order — through
//! `Household::order_for`, `Order::create` and this device's order numbers, the reminder
//! recorded on the household in the same transaction — or dismissing it with a reason.
//! Dispatchers and admins only.

use onsite_domain::household::Household;
use onsite_domain::order::Order;
use onsite_domain::reminder::{self, Reminder};
use onsite_domain::sla::SlaPolicy;
use onsite_domain::{DocId, Millis};
use onsite_store::Store;

use super::dispatch_read::Snapshot;
use super::followups::read_settings;
use super::registry::read_household;
use super::{App, lock};
use crate::error::AppError;
use crate::view::*;

fn households(store: &Store) -> Result<Vec<Household>, AppError> {
    let mut out = Vec::new();
    for id in store.list_doc_ids()? {
        if let DocId::Household(_) = id {
            out.push(store.read(&id)?);
        }
    }
    Ok(out)
}

fn reminder_view(r: Reminder, households: &[Household]) -> ReminderView {
    let h = households.iter().find(|h| h.household_id == r.household_id);
    let a = h.and_then(|h| h.appliance(&r.appliance_id));
    ReminderView {
        customer_name: h.map(|h| h.name.clone()).unwrap_or_default(),
        phone: h
            .and_then(|h| h.phones.first().cloned())
            .unwrap_or_default(),
        address: h.map(|h| h.address.clone()).unwrap_or_default(),
        brand: a.map(|a| a.brand.clone()).unwrap_or_default(),
        model: a.map(|a| a.model.clone()).unwrap_or_default(),
        key: r.key,
        household_id: r.household_id,
        appliance_id: r.appliance_id,
        category: r.category,
        task: r.task,
        months: r.months,
        since: r.since,
        since_ms: r.since_ms,
        due_date: r.due_date,
        due_at_ms: r.due_at_ms,
    }
}

impl App {
    /// The reminder `key` of `household_id` if it is due now, with the household.
    fn due_reminder(
        &self,
        store: &Store,
        household_id: &str,
        key: &str,
        now: Millis,
    ) -> Result<(Household, Reminder), AppError> {
        let settings = read_settings(store)?;
        let household = read_household(store, household_id)?;
        let snap = Snapshot::read(store)?;
        let r = reminder::find_due(
            &settings,
            &household,
            &snap.orders,
            &snap.visits,
            key,
            now,
            self.utc_offset_ms,
        )?;
        Ok((household, r))
    }

    /// Every maintenance reminder due now, earliest first.
    pub fn reminders(&self) -> Result<RemindersView, AppError> {
        self.dispatcher()?;
        let now = self.now();
        let store = lock(&self.store);
        let settings = read_settings(&store)?;
        let households = households(&store)?;
        let snap = Snapshot::read(&store)?;
        drop(store);
        let due = reminder::due(
            &settings,
            &households,
            &snap.orders,
            &snap.visits,
            now,
            self.utc_offset_ms,
        );
        Ok(RemindersView {
            due: due
                .into_iter()
                .map(|r| reminder_view(r, &households))
                .collect(),
        })
    }

    /// Turn a due reminder into a maintenance order for its appliance (numbered like every
    /// order this device creates); the reminder is then no longer due.
    pub fn order_from_reminder(
        &self,
        req: ReminderActionRequest,
    ) -> Result<DispatchOrderView, AppError> {
        let by = self.dispatcher()?;
        let now = self.now();
        let numbers = self.order_numbers()?;
        let order_id = format!("o-{}", (self.new_id)());
        {
            let mut store = lock(&self.store);
            let (household, r) = self.due_reminder(&store, &req.household_id, &req.key, now)?;
            // Validate before taking a number, so a refused order uses none.
            let probe = household.order_for(reminder::order_request(&r, &order_id, ""))?;
            Order::create(probe, &SlaPolicy::PUBLISHED, now)?;
            let order_no = numbers.next(&mut store, now)?;
            let new = household.order_for(reminder::order_request(&r, &order_id, &order_no))?;
            let mut order = Order::create(new, &SlaPolicy::PUBLISHED, now)?;
            order.appliance_history = super::history::snapshot_for(&store, &order)?;
            let hid = DocId::Household(household.household_id.clone());
            store.batch(|b| {
                b.update(&hid, |h: &mut Household| {
                    reminder::mark_ordered(h, &r, &order_id, &by, now)
                })?;
                b.create(&DocId::Order(order_id.clone()), &order)
            })?;
        }
        self.nudge();
        self.dispatch_order(&order_id)
    }

    /// Dismiss a due reminder with a reason (the customer declined, the appliance is gone, …).
    pub fn dismiss_reminder(&self, req: ReminderActionRequest) -> Result<RemindersView, AppError> {
        let by = self.dispatcher()?;
        let now = self.now();
        {
            let mut store = lock(&self.store);
            let (household, r) = self.due_reminder(&store, &req.household_id, &req.key, now)?;
            let hid = DocId::Household(household.household_id.clone());
            store.update(&hid, |h: &mut Household| {
                reminder::dismiss(h, &r, &req.reason, &by, now)
            })?;
        }
        self.nudge();
        self.reminders()
    }
}
