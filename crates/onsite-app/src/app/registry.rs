//! The dispatcher's customer registry: search (offline, by phone in any spelling, name or
//! address), the household view with every order and visit of the household on this device, and
//! creating and editing households and their appliances through the domain's rules.

use onsite_domain::DocId;
use onsite_domain::history::ReplacedPart;
use onsite_domain::household::{Contact, Household};
use onsite_domain::order::{Appliance, Order};
use onsite_domain::progress;
use onsite_domain::visit::Visit;
use onsite_store::{HouseholdRow, Store};

use super::{App, lock};
use crate::convert::step_view;
use crate::error::AppError;
use crate::view::*;

/// Most households a search returns.
pub const CUSTOMER_SEARCH_LIMIT: usize = 50;

fn card(row: HouseholdRow) -> HouseholdCard {
    HouseholdCard {
        household_id: row.household_id,
        name: row.name,
        phones: row.phones,
        address: row.address,
        tier: row.tier,
        appliances: row.appliances.max(0) as u32,
        orders: row.orders.max(0) as u32,
        last_order_at_ms: row.last_order_at_ms,
    }
}

fn contact(req: ContactRequest) -> Contact {
    Contact {
        name: req.name,
        phones: req.phones,
        address: req.address,
        tier: req.tier,
        notes: req.notes,
        preferences: req.preferences,
    }
}

fn appliance(id: String, req: ApplianceRequest) -> Appliance {
    Appliance {
        id,
        category: req.category.trim().to_owned(),
        brand: req.brand.trim().to_owned(),
        model: req.model.trim().to_owned(),
        serial: req.serial.trim().to_owned(),
        purchase_date_ms: req.purchase_date_ms,
        warranty_until_ms: req.warranty_until_ms,
    }
}

/// The household `household_id`, or [`AppError::HouseholdNotFound`].
pub(super) fn read_household(store: &Store, household_id: &str) -> Result<Household, AppError> {
    let id = DocId::Household(household_id.to_owned());
    if !onsite_domain::ids::is_valid_id(household_id) || !store.contains(&id)? {
        return Err(AppError::HouseholdNotFound(household_id.to_owned()));
    }
    Ok(store.read(&id)?)
}

fn visit_view(v: &Visit) -> HouseholdVisitView {
    HouseholdVisitView {
        technician_id: v.technician_id.clone(),
        stage: progress::current(&v.events).map(step_view),
        signed_at_ms: v.signature.as_ref().map(|s| s.signed_at_ms),
        technician_name: v.signature.as_ref().map(|s| s.technician_name.clone()),
        parts: v.parts.iter().map(ReplacedPart::from).collect(),
        rating: v.rating.as_ref().map(|r| RatingView {
            stars: r.stars,
            comment: r.comment.clone(),
        }),
    }
}

/// Every order of the household on this device, newest first, with its visits.
fn household_orders(
    store: &Store,
    household_id: &str,
) -> Result<Vec<HouseholdOrderView>, AppError> {
    let mut out = Vec::new();
    for h in store.household_history(household_id)? {
        let order: Order = store.read(&DocId::Order(h.order.order_id.clone()))?;
        let mut visits = Vec::with_capacity(h.visits.len());
        for v in &h.visits {
            let visit: Visit = store.read(&DocId::visit(&v.order_id, &v.technician_id))?;
            visits.push(visit_view(&visit));
        }
        out.push(HouseholdOrderView {
            in_warranty: order
                .appliance()
                .is_some_and(|a| a.in_warranty(order.created_at_ms)),
            order_id: order.order_id,
            order_no: order.order_no,
            appliance_id: order.appliance_id,
            service_type: order.service_type,
            problem: order.problem,
            status: h.order.effective_status,
            assignee: order.assignee,
            created_at_ms: order.created_at_ms,
            external_ref: order.external_ref,
            visits,
        });
    }
    Ok(out)
}

impl App {
    /// Households whose phone (any spelling, partial), name or address matches `query`, best
    /// first, at most [`CUSTOMER_SEARCH_LIMIT`]; offline, from the device store.
    pub fn search_customers(&self, query: &str) -> Result<CustomerSearch, AppError> {
        self.dispatcher()?;
        let rows = lock(&self.store).search_households(query, CUSTOMER_SEARCH_LIMIT)?;
        Ok(CustomerSearch {
            query: query.to_owned(),
            households: rows.into_iter().map(card).collect(),
        })
    }

    /// The household view: contact, appliances (in warranty now or not) and every order and visit
    /// of the household on this device (parts replaced, ratings).
    pub fn household(&self, household_id: &str) -> Result<HouseholdView, AppError> {
        self.dispatcher()?;
        let now = self.now();
        let store = lock(&self.store);
        let h = read_household(&store, household_id)?;
        let orders = household_orders(&store, household_id)?;
        let pending = store
            .doc_info(&DocId::Household(household_id.to_owned()))?
            .local_changes
            > 0;
        drop(store);
        Ok(HouseholdView {
            appliances: h
                .appliances
                .iter()
                .map(|a| RegistryApplianceView {
                    id: a.id.clone(),
                    category: a.category.clone(),
                    brand: a.brand.clone(),
                    model: a.model.clone(),
                    serial: a.serial.clone(),
                    purchase_date_ms: a.purchase_date_ms,
                    warranty_until_ms: a.warranty_until_ms,
                    in_warranty: a.in_warranty(now),
                    orders: orders.iter().filter(|o| o.appliance_id == a.id).count() as u32,
                })
                .collect(),
            household_id: h.household_id,
            name: h.name,
            phones: h.phones,
            address: h.address,
            tier: h.tier,
            notes: h.notes,
            preferences: h.preferences,
            orders,
            pending_sync: pending,
        })
    }

    /// Register a new household (phones normalised; name, address and a phone required).
    pub fn create_household(&self, req: ContactRequest) -> Result<HouseholdView, AppError> {
        self.dispatcher()?;
        let id = format!("hh-{}", (self.new_id)());
        let h = Household::create(&id, contact(req), Vec::new(), self.now())?;
        lock(&self.store).create(&DocId::Household(id.clone()), &h)?;
        self.nudge();
        self.household(&id)
    }

    /// Replace a household's contact fields.
    pub fn update_household(
        &self,
        household_id: &str,
        req: ContactRequest,
    ) -> Result<HouseholdView, AppError> {
        self.edit_household(household_id, |h, now| h.update_contact(contact(req), now))
    }

    /// Register an appliance in the household (`id` null), or update the one with `id`.
    pub fn save_appliance(
        &self,
        household_id: &str,
        req: ApplianceRequest,
    ) -> Result<HouseholdView, AppError> {
        let new_id = || format!("ap-{}", (self.new_id)());
        self.edit_household(household_id, |h, now| match req.id.clone() {
            None => h.add_appliance(appliance(new_id(), req), now),
            Some(id) => h.update_appliance(appliance(id, req), now),
        })
    }

    fn edit_household(
        &self,
        household_id: &str,
        f: impl FnOnce(&mut Household, onsite_domain::Millis) -> Result<(), onsite_domain::DomainError>,
    ) -> Result<HouseholdView, AppError> {
        self.dispatcher()?;
        let now = self.now();
        {
            let mut store = lock(&self.store);
            read_household(&store, household_id)?;
            store.update(
                &DocId::Household(household_id.to_owned()),
                |h: &mut Household| f(h, now),
            )?;
        }
        self.nudge();
        self.household(household_id)
    }
}
