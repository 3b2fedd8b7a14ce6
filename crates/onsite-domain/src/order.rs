//! The work order (`order:<id>`), owned by dispatchers. Technicians read it; they never write it.

use autosurgeon::{Hydrate, Reconcile, Text};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::reference::{ServiceType, TechnicianProfile};
use crate::sla::{SlaPolicy, SlaTargets};
use crate::{DomainError, Millis};

/// Customer tier; SLA targets depend on it. Crosses to the UI as is (ts-rs).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize, TS,
)]
pub enum Tier {
    Standard,
    Gold,
    Platinum,
}

/// The customer as the technician needs to know them before the visit.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Customer {
    /// Household id: the same home across orders, for household history.
    pub household_id: String,
    pub name: String,
    pub phone: String,
    pub address: String,
    pub tier: Tier,
    /// Free-text notes shown before the visit.
    pub notes: String,
    /// Personal preferences to respect (dietary, cultural, access, pets, …).
    pub preferences: Vec<String>,
}

/// One appliance installed in the household (ISO 9001 §7.5.1 a).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Appliance {
    #[key]
    pub id: String,
    /// e.g. "air-conditioner", "washer", "fridge", "water-heater".
    pub category: String,
    pub brand: String,
    pub model: String,
    pub serial: String,
    pub purchase_date_ms: Option<Millis>,
    pub warranty_until_ms: Option<Millis>,
}

impl Appliance {
    pub fn in_warranty(&self, now: Millis) -> bool {
        self.warranty_until_ms.is_some_and(|w| now <= w)
    }
}

/// A window in which the visit is scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Window {
    pub start_ms: Millis,
    pub end_ms: Millis,
}

/// One assignment or reassignment (转派).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Transfer {
    #[key]
    pub id: String,
    pub from: Option<String>,
    pub to: String,
    pub reason: String,
    pub by: String,
    pub at_ms: Millis,
}

/// What the dispatcher says about the order. Progress on site lives in the visit, not here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub enum DispatchStatus {
    Open,
    OnHold,
    Cancelled,
}

/// The work order document.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Order {
    pub schema: u32,
    pub order_id: String,
    /// Human order number, e.g. `WO-20261130-0001`.
    pub order_no: String,
    pub created_at_ms: Millis,
    pub customer: Customer,
    pub appliances: Vec<Appliance>,
    /// The appliance this order is about (one of `appliances`).
    pub appliance_id: String,
    pub service_type: ServiceType,
    pub problem: String,
    pub sla: SlaTargets,
    pub assignee: Option<String>,
    pub schedule: Option<Window>,
    pub transfers: Vec<Transfer>,
    pub status: DispatchStatus,
    pub status_reason: String,
    pub status_changed_at_ms: Millis,
    /// Dispatchers' shared notes; several dispatchers may type here at once.
    #[serde(with = "text_serde")]
    pub dispatcher_notes: Text,
    // registry:
    /// The reference of the order in the system it was imported from (CSV import), which makes
    /// importing the same file twice create no duplicates. An order written before this field
    /// existed, or entered by hand, has none.
    #[autosurgeon(missing = "Option::default")]
    #[serde(default)]
    pub external_ref: Option<String>,
    // history: the appliance's service history when the order was created or last (re)assigned,
    // written by the dispatcher's device (`crate::history`), so the technician sees visits by
    // others offline. An order written before this field existed has none.
    #[autosurgeon(missing = "Vec::new")]
    #[serde(default)]
    pub appliance_history: Vec<crate::history::ServiceEntry>,
    // conflicts: the dispatcher's decisions on the conflict review queue (`resolve`), oldest
    // first. An order written before this field existed has none.
    #[autosurgeon(missing = "Vec::new")]
    #[serde(default)]
    pub resolutions: Vec<crate::resolve::Resolution>,
    // followups: the follow-up calls after its completions and the complaints they brought
    // (`crate::followup`), oldest first. An order written before these fields existed has none.
    #[autosurgeon(missing = "Vec::new")]
    #[serde(default)]
    pub follow_ups: Vec<crate::followup::FollowUpCall>,
    #[autosurgeon(missing = "Vec::new")]
    #[serde(default)]
    pub complaints: Vec<crate::followup::Complaint>,
}

/// What a dispatcher enters to create an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewOrder {
    pub order_id: String,
    pub order_no: String,
    pub customer: Customer,
    pub appliances: Vec<Appliance>,
    pub appliance_id: String,
    pub service_type: ServiceType,
    pub problem: String,
    pub schedule: Option<Window>,
}

impl Order {
    /// Create an order at `now`; SLA targets come from the customer's tier.
    pub fn create(new: NewOrder, policy: &SlaPolicy, now: Millis) -> Result<Order, DomainError> {
        if new.customer.name.trim().is_empty() {
            return Err(DomainError::Empty {
                what: "customer name",
            });
        }
        if new.customer.address.trim().is_empty() {
            return Err(DomainError::Empty {
                what: "customer address",
            });
        }
        if !crate::ids::is_valid_id(&new.order_id) {
            return Err(DomainError::BadDocId(new.order_id));
        }
        if !new.appliances.iter().any(|a| a.id == new.appliance_id) {
            return Err(DomainError::NoSuchEntry(new.appliance_id));
        }
        crate::admit::sizes(&new, true)?;
        Ok(Order {
            schema: crate::templates::SCHEMA,
            sla: policy.targets(new.customer.tier, now),
            order_id: new.order_id,
            order_no: new.order_no,
            created_at_ms: now,
            customer: new.customer,
            appliances: new.appliances,
            appliance_id: new.appliance_id,
            service_type: new.service_type,
            problem: new.problem,
            assignee: None,
            schedule: new.schedule,
            transfers: Vec::new(),
            status: DispatchStatus::Open,
            status_reason: String::new(),
            status_changed_at_ms: now,
            dispatcher_notes: Text::default(),
            external_ref: None,
            appliance_history: Vec::new(),
            resolutions: Vec::new(),
            follow_ups: Vec::new(),
            complaints: Vec::new(),
        })
    }

    /// The appliance the order is about.
    pub fn appliance(&self) -> Option<&Appliance> {
        self.appliances.iter().find(|a| a.id == self.appliance_id)
    }

    /// Assign (first time) or reassign (转派) to `to`. The technician must hold a valid certificate
    /// qualifying them for the service type (ISO 9001 §7.5.2 b).
    pub fn assign(
        &mut self,
        transfer_id: &str,
        to: &TechnicianProfile,
        reason: &str,
        by: &str,
        now: Millis,
    ) -> Result<(), DomainError> {
        if self.status == DispatchStatus::Cancelled {
            return Err(DomainError::OrderCancelled);
        }
        if self.assignee.as_deref() == Some(to.technician_id.as_str()) {
            return Err(DomainError::AlreadyAssigned(to.technician_id.clone()));
        }
        if !to.qualified_for(self.service_type, now) {
            return Err(DomainError::NotQualified {
                technician_id: to.technician_id.clone(),
            });
        }
        if self.assignee.is_some() && reason.trim().is_empty() {
            return Err(DomainError::Empty {
                what: "reason for the transfer",
            });
        }
        if self.transfers.iter().any(|t| t.id == transfer_id) {
            return Err(DomainError::DuplicateId(transfer_id.to_owned()));
        }
        self.transfers.push(Transfer {
            id: transfer_id.to_owned(),
            from: self.assignee.clone(),
            to: to.technician_id.clone(),
            reason: reason.to_owned(),
            by: by.to_owned(),
            at_ms: now,
        });
        self.assignee = Some(to.technician_id.clone());
        Ok(())
    }

    /// Put on hold, cancel or reopen the order.
    pub fn set_status(
        &mut self,
        status: DispatchStatus,
        reason: &str,
        now: Millis,
    ) -> Result<(), DomainError> {
        if status != DispatchStatus::Open && reason.trim().is_empty() {
            return Err(DomainError::Empty {
                what: "reason for the status change",
            });
        }
        self.status = status;
        self.status_reason = reason.to_owned();
        self.status_changed_at_ms = now;
        Ok(())
    }
}

/// Serialise an autosurgeon [`Text`] as a plain JSON string (for the UI and the wire).
pub(crate) mod text_serde {
    use autosurgeon::Text;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Text, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(t.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        Ok(Text::from(String::deserialize(d)?))
    }
}
