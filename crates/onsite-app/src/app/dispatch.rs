//! The console's write commands: create and edit orders, hold, cancel and reopen them with a
//! reason, assign and reassign (转派). Each goes through the domain's rule (`Order::create`,
//! `Order::assign`, `Order::set_status`) and is committed to the device store before returning;
//! the sync task uploads it.

use onsite_domain::DocId;
use onsite_domain::order::{Appliance, Customer, DispatchStatus, NewOrder, Order, Window};
use onsite_domain::reference::TechnicianProfile;
use onsite_domain::sla::SlaPolicy;
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
/// B's household registry supplies them when it lands.
fn household_appliances(store: &Store, household_id: &str) -> Result<Vec<Appliance>, AppError> {
    match store.household_history(household_id)?.into_iter().next() {
        Some(latest) => Ok(read_order(store, &latest.order.order_id)?.appliances),
        None => Ok(Vec::new()),
    }
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
            // Validate before taking a number, so a refused order uses none.
            Order::create(new.clone(), &SlaPolicy::PUBLISHED, now)?;
            new.order_no = numbers.next(&mut store, now)?;
            let order = Order::create(new, &SlaPolicy::PUBLISHED, now)?;
            store.create(&DocId::Order(order.order_id.clone()), &order)?;
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
            store.update(&DocId::Order(order_id.to_owned()), f)?;
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
        let profile: TechnicianProfile = {
            let store = lock(&self.store);
            let pid = DocId::Profile(technician_id.to_owned());
            if !store.contains(&pid)? {
                return Err(AppError::UnknownTechnician(technician_id.to_owned()));
            }
            store.read(&pid)?
        };
        let transfer_id = format!("tr-{}", (self.new_id)());
        self.update_order(order_id, |o| {
            o.assign(&transfer_id, &profile, reason, &by, now)
        })
    }
}
