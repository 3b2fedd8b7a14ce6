//! The console's write commands: create and edit orders, hold, cancel and reopen them with a
//! reason, assign and reassign (转派). Each goes through the domain's rule (`Order::create`,
//! `Order::assign`, `Order::set_status`) and is committed to the device store before returning;
//! the sync task uploads it. Creating and (re)assigning also write the appliance's service
//! history into the order (`history::snapshot_for`), so the technician gets it offline.

use onsite_domain::household::{Contact, Household};
use onsite_domain::order::{Appliance, Customer, DispatchStatus, NewOrder, Order, Window};
use onsite_domain::reference::TechnicianProfile;
use onsite_domain::sla::SlaPolicy;
use onsite_domain::{DocId, Millis};
use onsite_store::Store;

use super::{App, lock, read_order};
use crate::error::AppError;
use crate::view::*;

fn window(w: Option<WindowInput>) -> Result<Option<Window>, AppError> {
    match w {
        None => Ok(None),
        Some(w) if w.end_ms <= w.start_ms => Err(AppError::BadWindow),
        Some(w) => Ok(Some(Window {
            start_ms: w.start_ms,
            end_ms: w.end_ms,
        })),
    }
}

/// The appliances of `household_id` known on this device (from its latest order). Hook: helper
/// The registry's household document when it has one, otherwise the household's latest order.
fn household_appliances(store: &Store, household_id: &str) -> Result<Vec<Appliance>, AppError> {
    if let Some(h) = registered(store, household_id)? {
        return Ok(h.appliances);
    }
    match store.household_history(household_id)?.into_iter().next() {
        Some(latest) => Ok(read_order(store, &latest.order.order_id)?.appliances),
        None => Ok(Vec::new()),
    }
}

/// The registry's household `household_id`, if this device holds it.
fn registered(store: &Store, household_id: &str) -> Result<Option<Household>, AppError> {
    let id = DocId::Household(household_id.to_owned());
    if onsite_domain::ids::is_valid_id(household_id) && store.contains(&id)? {
        return Ok(Some(store.read(&id)?));
    }
    Ok(None)
}

/// What the order changes in the registry: a new customer becomes a household, a new appliance
/// joins its household. Checked (phone, appliance) before anything is written.
enum RegistryChange {
    None,
    Create(Household),
    AddAppliance(Appliance),
}

fn registry_change(store: &Store, order: &Order, now: Millis) -> Result<RegistryChange, AppError> {
    let c = &order.customer;
    let Some(appliance) = order.appliance().cloned() else {
        return Ok(RegistryChange::None);
    };
    Ok(match registered(store, &c.household_id)? {
        Some(h) if h.appliance(&appliance.id).is_some() => RegistryChange::None,
        Some(mut h) => {
            h.add_appliance(appliance.clone(), now)?;
            RegistryChange::AddAppliance(appliance)
        }
        None => RegistryChange::Create(Household::create(
            &c.household_id,
            Contact {
                name: c.name.clone(),
                phones: vec![c.phone.clone()],
                address: c.address.clone(),
                tier: c.tier,
                notes: c.notes.clone(),
                preferences: c.preferences.clone(),
            },
            order.appliances.clone(),
            now,
        )?),
    })
}

/// Write `order` and its registry change in one transaction.
fn write_order(
    store: &mut Store,
    order: &Order,
    change: RegistryChange,
    now: Millis,
) -> Result<(), AppError> {
    let hid = DocId::Household(order.customer.household_id.clone());
    store.batch(|b| {
        match change {
            RegistryChange::None => {}
            RegistryChange::Create(h) => b.create(&hid, &h)?,
            RegistryChange::AddAppliance(a) => {
                b.update(&hid, |h: &mut Household| h.add_appliance(a, now))?;
            }
        }
        b.create(&DocId::Order(order.order_id.clone()), order)
    })?;
    Ok(())
}

impl App {
    /// The `NewOrder` for `req`: the household's appliances plus a new one if registered.
    fn new_order(&self, store: &Store, req: NewOrderRequest) -> Result<NewOrder, AppError> {
        let id = (self.new_id)();
        let household_id = req.household_id.unwrap_or_else(|| format!("hh-{id}"));
        let mut appliances = household_appliances(store, &household_id)?;
        let appliance_id = match (req.appliance_id, req.new_appliance) {
            (Some(a), _) => a,
            (None, Some(new)) => {
                let aid = format!("ap-{}", (self.new_id)());
                appliances.push(Appliance {
                    id: aid.clone(),
                    category: new.category,
                    brand: new.brand,
                    model: new.model,
                    serial: new.serial,
                    purchase_date_ms: None,
                    warranty_until_ms: None,
                });
                aid
            }
            (None, None) => return Err(AppError::Empty("appliance")),
        };
        Ok(NewOrder {
            order_id: format!("o-{id}"),
            order_no: String::new(),
            customer: Customer {
                household_id,
                name: req.customer_name.trim().to_owned(),
                phone: req.phone.trim().to_owned(),
                address: req.address.trim().to_owned(),
                tier: req.tier,
                notes: req.notes,
                preferences: Vec::new(),
            },
            appliances,
            appliance_id,
            service_type: req.service_type,
            problem: req.problem.trim().to_owned(),
            schedule: window(req.window)?,
        })
    }

    /// Create an order offline (SLA targets from the tier, as `sla_preview` showed).
    pub fn create_order(&self, req: NewOrderRequest) -> Result<DispatchOrderView, AppError> {
        self.dispatcher()?;
        if req.problem.trim().is_empty() {
            return Err(AppError::Empty("problem description"));
        }
        let now = self.now();
        let numbers = self.order_numbers()?;
        let order_id = {
            let mut store = lock(&self.store);
            let mut new = self.new_order(&store, req)?;
            // Validate order and registry before taking a number, so a refused order uses none.
            let checked = Order::create(new.clone(), &SlaPolicy::PUBLISHED, now)?;
            let change = registry_change(&store, &checked, now)?;
            new.order_no = numbers.next(&mut store, now)?;
            let mut order = Order::create(new, &SlaPolicy::PUBLISHED, now)?;
            order.appliance_history = super::history::snapshot_for(&store, &order)?;
            write_order(&mut store, &order, change, now)?;
            order.order_id
        };
        self.nudge();
        self.dispatch_order(&order_id)
    }

    fn update_order(
        &self,
        order_id: &str,
        f: impl FnOnce(&mut Order) -> Result<(), onsite_domain::DomainError>,
    ) -> Result<DispatchOrderView, AppError> {
        {
            let mut store = lock(&self.store);
            read_order(&store, order_id)?;
            store.update(&DocId::Order(order_id.to_owned()), |o: &mut Order| {
                f(o)?;
                onsite_domain::admit::sizes(o, true)
            })?;
        }
        self.nudge();
        self.dispatch_order(order_id)
    }

    /// Change contact details, problem and schedule window.
    pub fn edit_order(&self, req: EditOrderRequest) -> Result<DispatchOrderView, AppError> {
        self.dispatcher()?;
        let schedule = window(req.window)?;
        if req.problem.trim().is_empty() {
            return Err(AppError::Empty("problem description"));
        }
        self.update_order(&req.order_id.clone(), move |o| {
            o.customer.phone = req.phone.trim().to_owned();
            o.customer.address = req.address.trim().to_owned();
            o.customer.notes = req.notes;
            o.problem = req.problem.trim().to_owned();
            o.schedule = schedule;
            Ok(())
        })
    }

    fn set_status(
        &self,
        order_id: &str,
        status: DispatchStatus,
        reason: &str,
    ) -> Result<DispatchOrderView, AppError> {
        self.dispatcher()?;
        let now = self.now();
        self.update_order(order_id, |o| o.set_status(status, reason.trim(), now))
    }

    /// Put the order on hold (a reason is required).
    pub fn hold_order(&self, order_id: &str, reason: &str) -> Result<DispatchOrderView, AppError> {
        self.set_status(order_id, DispatchStatus::OnHold, reason)
    }

    /// Cancel the order (a reason is required).
    pub fn cancel_order(
        &self,
        order_id: &str,
        reason: &str,
    ) -> Result<DispatchOrderView, AppError> {
        self.set_status(order_id, DispatchStatus::Cancelled, reason)
    }

    /// Open the order again after a hold or a cancellation.
    pub fn reopen_order(
        &self,
        order_id: &str,
        reason: &str,
    ) -> Result<DispatchOrderView, AppError> {
        self.set_status(order_id, DispatchStatus::Open, reason)
    }

    /// Assign an unassigned order. A technician the domain finds not qualified is refused with
    /// `order.not_qualified` and nothing changes.
    pub fn assign_order(
        &self,
        order_id: &str,
        technician_id: &str,
    ) -> Result<DispatchOrderView, AppError> {
        self.transfer(order_id, technician_id, "")
    }

    /// Reassign (转派) with a reason; the transfer history stays on the order.
    pub fn reassign_order(
        &self,
        order_id: &str,
        technician_id: &str,
        reason: &str,
    ) -> Result<DispatchOrderView, AppError> {
        if reason.trim().is_empty() {
            return Err(AppError::Empty("reason for the transfer"));
        }
        self.transfer(order_id, technician_id, reason.trim())
    }

    fn transfer(
        &self,
        order_id: &str,
        technician_id: &str,
        reason: &str,
    ) -> Result<DispatchOrderView, AppError> {
        let by = self.dispatcher()?;
        let now = self.now();
        let (profile, history): (TechnicianProfile, _) = {
            let store = lock(&self.store);
            let pid = DocId::Profile(technician_id.to_owned());
            if !store.contains(&pid)? {
                return Err(AppError::UnknownTechnician(technician_id.to_owned()));
            }
            let order = read_order(&store, order_id)?;
            // history: the new assignee gets the appliance's history as it is now.
            (
                store.read(&pid)?,
                super::history::snapshot_for(&store, &order)?,
            )
        };
        let transfer_id = format!("tr-{}", (self.new_id)());
        self.update_order(order_id, |o| {
            o.assign(&transfer_id, &profile, reason, &by, now)?;
            o.appliance_history = history;
            Ok(())
        })
    }
}
