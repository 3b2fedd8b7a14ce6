//! The customer registry: one document per household (`household:<id>`), owned by dispatchers.
//! It holds the customer's contact details, tier and preferences and the appliances installed
//! there. An order keeps a copy of the customer and appliances as they were when it was created
//! (what the technician needs offline), plus the household id that links it back here.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::order::{Appliance, Customer, NewOrder, Tier, Window};
use crate::reference::ServiceType;
use crate::{DomainError, Millis, phone};

/// A household document.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Household {
    pub schema: u32,
    pub household_id: String,
    pub name: String,
    /// Normalised numbers ([`phone::normalise`]), the first one called first.
    pub phones: Vec<String>,
    pub address: String,
    pub tier: Tier,
    /// Free-text notes shown before a visit (door code, parking, …).
    pub notes: String,
    /// Personal preferences to respect (dietary, cultural, access, pets, …).
    pub preferences: Vec<String>,
    pub appliances: Vec<Appliance>,
    pub created_at_ms: Millis,
    pub updated_at_ms: Millis,
    // followups: the maintenance reminders turned into an order or dismissed (`crate::reminder`),
    // oldest first. A household written before this field existed has none.
    #[autosurgeon(missing = "Vec::new")]
    #[serde(default)]
    pub reminders: Vec<crate::reminder::ReminderAction>,
}

/// The contact fields a dispatcher enters or edits. Phones are normalised and deduplicated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    pub phones: Vec<String>,
    pub address: String,
    pub tier: Tier,
    pub notes: String,
    pub preferences: Vec<String>,
}

/// A field of a form (household, appliance, the service settings), named by a refused entry so
/// the form shows the error next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Name,
    Phones,
    Address,
    Category,
    WarrantyUntil,
    // service settings (`crate::service`): its hours, and per maintenance row (by index) the
    // category (above), the months and the task.
    FollowUpWithinHours,
    FollowUpRetryHours,
    ComplaintResolveHours,
    Months,
    Task,
}

/// An appliance category the app knows, with its labels: the vocabulary the forms offer
/// (maintenance intervals) and the CSV import reads. Households may still record others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApplianceCategory {
    /// As households and the service settings record it, e.g. `air-conditioner`.
    pub id: &'static str,
    pub zh_cn: &'static str,
    pub en: &'static str,
}

/// Every [`ApplianceCategory`], in the order the forms offer them.
pub const APPLIANCE_CATEGORIES: [ApplianceCategory; 7] = {
    const fn c(id: &'static str, zh_cn: &'static str, en: &'static str) -> ApplianceCategory {
        ApplianceCategory { id, zh_cn, en }
    }
    [
        c("air-conditioner", "空调", "Air-conditioner"),
        c("washer", "洗衣机", "Washer"),
        c("fridge", "冰箱", "Fridge"),
        c("water-heater", "热水器", "Water heater"),
        c("water-purifier", "净水器", "Water purifier"),
        c("range-hood", "油烟机", "Range hood"),
        c("gas-hob", "燃气灶", "Gas hob"),
    ]
};

/// Where a refused entry is: the field, and for a list (phones) which entry, from 0 as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FieldRef {
    pub field: Field,
    pub index: Option<u32>,
}

pub(crate) fn in_field(
    field: Field,
    index: Option<usize>,
) -> impl FnOnce(DomainError) -> DomainError {
    move |e| DomainError::InField {
        at: FieldRef {
            field,
            index: index.map(|i| i as u32),
        },
        source: Box::new(e),
    }
}

/// What a dispatcher enters for a new order of a household; the rest comes from the household.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRequest {
    pub order_id: String,
    pub order_no: String,
    pub appliance_id: String,
    pub service_type: ServiceType,
    pub problem: String,
    pub schedule: Option<Window>,
}

/// Check and normalise contact fields: name, address and at least one phone are required.
fn checked_contact(mut c: Contact) -> Result<Contact, DomainError> {
    c.name = c.name.trim().to_owned();
    c.address = c.address.trim().to_owned();
    if c.name.is_empty() {
        return Err(in_field(Field::Name, None)(DomainError::Empty {
            what: "customer name",
        }));
    }
    let mut phones: Vec<String> = Vec::with_capacity(c.phones.len());
    for (i, p) in c.phones.iter().enumerate() {
        if p.trim().is_empty() {
            continue;
        }
        let n = phone::normalise(p).map_err(in_field(Field::Phones, Some(i)))?;
        if !phones.contains(&n) {
            phones.push(n);
        }
    }
    if phones.is_empty() {
        return Err(in_field(Field::Phones, None)(DomainError::Empty {
            what: "phone",
        }));
    }
    if c.address.is_empty() {
        return Err(in_field(Field::Address, None)(DomainError::Empty {
            what: "customer address",
        }));
    }
    c.phones = phones;
    c.preferences.retain(|p| !p.trim().is_empty());
    Ok(c)
}

/// Check one appliance: a valid id, a category, and a warranty that does not end before purchase.
fn check_appliance(a: &Appliance) -> Result<(), DomainError> {
    if !crate::ids::is_valid_id(&a.id) {
        return Err(DomainError::BadDocId(a.id.clone()));
    }
    if a.category.trim().is_empty() {
        return Err(in_field(Field::Category, None)(DomainError::Empty {
            what: "appliance category",
        }));
    }
    if let (Some(bought), Some(until)) = (a.purchase_date_ms, a.warranty_until_ms)
        && until < bought
    {
        return Err(in_field(Field::WarrantyUntil, None)(
            DomainError::WarrantyBeforePurchase(a.id.clone()),
        ));
    }
    Ok(())
}

impl Household {
    /// A new household `household_id` with `contact` and `appliances`, at `now`.
    pub fn create(
        household_id: &str,
        contact: Contact,
        appliances: Vec<Appliance>,
        now: Millis,
    ) -> Result<Household, DomainError> {
        if !crate::ids::is_valid_id(household_id) {
            return Err(DomainError::BadDocId(household_id.to_owned()));
        }
        let c = checked_contact(contact)?;
        let mut h = Household {
            schema: crate::templates::SCHEMA,
            household_id: household_id.to_owned(),
            name: c.name,
            phones: c.phones,
            address: c.address,
            tier: c.tier,
            notes: c.notes,
            preferences: c.preferences,
            appliances: Vec::new(),
            created_at_ms: now,
            updated_at_ms: now,
            reminders: Vec::new(),
        };
        for a in appliances {
            h.add_appliance(a, now)?;
        }
        Ok(h)
    }

    /// The contact fields as they are now.
    pub fn contact(&self) -> Contact {
        Contact {
            name: self.name.clone(),
            phones: self.phones.clone(),
            address: self.address.clone(),
            tier: self.tier,
            notes: self.notes.clone(),
            preferences: self.preferences.clone(),
        }
    }

    /// Replace the contact fields (checked as on creation). Nothing changes when refused.
    pub fn update_contact(&mut self, contact: Contact, now: Millis) -> Result<(), DomainError> {
        let c = checked_contact(contact)?;
        self.name = c.name;
        self.phones = c.phones;
        self.address = c.address;
        self.tier = c.tier;
        self.notes = c.notes;
        self.preferences = c.preferences;
        self.updated_at_ms = now;
        Ok(())
    }

    /// Register an appliance installed in the household; its id must be new here.
    pub fn add_appliance(&mut self, appliance: Appliance, now: Millis) -> Result<(), DomainError> {
        check_appliance(&appliance)?;
        if self.appliance(&appliance.id).is_some() {
            return Err(DomainError::DuplicateId(appliance.id));
        }
        self.appliances.push(appliance);
        self.updated_at_ms = now;
        Ok(())
    }

    /// Replace the details of the appliance with `appliance.id`.
    pub fn update_appliance(
        &mut self,
        appliance: Appliance,
        now: Millis,
    ) -> Result<(), DomainError> {
        check_appliance(&appliance)?;
        let slot = self
            .appliances
            .iter_mut()
            .find(|a| a.id == appliance.id)
            .ok_or_else(|| DomainError::NoSuchEntry(appliance.id.clone()))?;
        *slot = appliance;
        self.updated_at_ms = now;
        Ok(())
    }

    pub fn appliance(&self, id: &str) -> Option<&Appliance> {
        self.appliances.iter().find(|a| a.id == id)
    }

    /// Whether `number` (in any spelling [`phone::normalise`] accepts) is one of the household's.
    pub fn has_phone(&self, number: &str) -> bool {
        phone::normalise(number).is_ok_and(|n| self.phones.contains(&n))
    }

    /// The customer as an order keeps it: the first phone is the one to call.
    pub fn customer(&self) -> Customer {
        Customer {
            household_id: self.household_id.clone(),
            name: self.name.clone(),
            phone: self.phones.first().cloned().unwrap_or_default(),
            address: self.address.clone(),
            tier: self.tier,
            notes: self.notes.clone(),
            preferences: self.preferences.clone(),
        }
    }

    /// The new order for one of the household's appliances: a copy of the customer and of every
    /// appliance (the technician sees the whole household), for `Order::create`.
    pub fn order_for(&self, req: OrderRequest) -> Result<NewOrder, DomainError> {
        if self.appliance(&req.appliance_id).is_none() {
            return Err(DomainError::NoSuchEntry(req.appliance_id));
        }
        Ok(NewOrder {
            order_id: req.order_id,
            order_no: req.order_no,
            customer: self.customer(),
            appliances: self.appliances.clone(),
            appliance_id: req.appliance_id,
            service_type: req.service_type,
            problem: req.problem,
            schedule: req.schedule,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::Order;
    use crate::sla::SlaPolicy;

    fn contact() -> Contact {
        Contact {
            name: " 张伟 ".into(),
            phones: vec!["138 0000 0001".into(), "+86 13800000001".into(), "".into()],
            address: "上海市浦东新区世纪大道 100 号".into(),
            tier: Tier::Gold,
            notes: "门禁 1234#".into(),
            preferences: vec!["请勿携带猪肉制品入户".into()],
        }
    }

    fn ac() -> Appliance {
        Appliance {
            id: "ap-1".into(),
            category: "air-conditioner".into(),
            brand: "Haier".into(),
            model: "KFR-35GW".into(),
            serial: "SN1".into(),
            purchase_date_ms: Some(1_000),
            warranty_until_ms: Some(2_000),
        }
    }

    #[test]
    fn a_household_keeps_normalised_distinct_phones_and_trimmed_fields() {
        let h = Household::create("hh-1", contact(), vec![ac()], 5).expect("valid");
        assert_eq!(h.phones, ["13800000001"], "one number in two spellings");
        assert_eq!(h.name, "张伟");
        assert!(h.has_phone("138-0000-0001"));
        assert_eq!(h.appliances.len(), 1);
    }

    #[test]
    fn refused_contact_edits_change_nothing_and_have_codes() {
        let mut h = Household::create("hh-1", contact(), vec![], 5).expect("valid");
        let before = h.clone();
        let at = |field, index| Some(FieldRef { field, index });
        for (c, code, field) in [
            (
                Contact {
                    phones: vec!["13800000001".into(), "".into(), "12345".into()],
                    ..contact()
                },
                "registry.bad_phone",
                at(Field::Phones, Some(2)),
            ),
            (
                Contact {
                    phones: vec![],
                    ..contact()
                },
                "input.empty",
                at(Field::Phones, None),
            ),
            (
                Contact {
                    name: " ".into(),
                    ..contact()
                },
                "input.empty",
                at(Field::Name, None),
            ),
            (
                Contact {
                    address: "".into(),
                    ..contact()
                },
                "input.empty",
                at(Field::Address, None),
            ),
        ] {
            let err = h.update_contact(c, 9).expect_err("refused");
            assert_eq!(err.code(), code, "the cause's code: {err}");
            assert_eq!(err.field(), field, "the form shows it by this field: {err}");
            assert_eq!(h, before, "a refused edit changes nothing");
        }
        let fewer = Contact {
            phones: vec!["021-12345678".into()],
            ..contact()
        };
        h.update_contact(fewer, 10).expect("a phone removed");
        assert_eq!(
            h.phones,
            ["02112345678"],
            "the phones are the ones given now"
        );
    }

    #[test]
    fn appliances_are_checked_added_and_updated_by_id() {
        let mut h = Household::create("hh-1", contact(), vec![ac()], 5).expect("valid");
        let err = h.add_appliance(ac(), 6).expect_err("same id twice");
        assert_eq!(err.code(), "input.duplicate_id");
        let bad = Appliance {
            warranty_until_ms: Some(500),
            ..ac()
        };
        let err = h.update_appliance(bad, 6).expect_err("warranty");
        assert_eq!(err.code(), "registry.warranty_before_purchase");
        assert_eq!(
            err.field().map(|f| f.field),
            Some(Field::WarrantyUntil),
            "shown by the warranty end"
        );
        let missing = Appliance {
            id: "ap-9".into(),
            ..ac()
        };
        assert_eq!(
            h.update_appliance(missing, 6).expect_err("unknown").code(),
            "input.no_such_entry"
        );
        let moved = Appliance {
            serial: "SN2".into(),
            ..ac()
        };
        h.update_appliance(moved, 7).expect("update");
        assert_eq!(h.appliances[0].serial, "SN2");
        assert_eq!(h.updated_at_ms, 7);
    }

    #[test]
    fn an_order_for_a_household_copies_customer_and_appliances() {
        let h = Household::create("hh-1", contact(), vec![ac()], 5).expect("valid");
        let req = OrderRequest {
            order_id: "o-1".into(),
            order_no: "WO-1".into(),
            appliance_id: "ap-1".into(),
            service_type: ServiceType::Repair,
            problem: "不制冷".into(),
            schedule: None,
        };
        let new = h.order_for(req.clone()).expect("order");
        let order = Order::create(new, &SlaPolicy::default(), 10).expect("valid order");
        assert_eq!(order.customer.household_id, "hh-1", "the order links back");
        assert_eq!(order.customer.phone, "13800000001");
        assert_eq!(order.appliances, h.appliances);
        let err = h
            .order_for(OrderRequest {
                appliance_id: "ap-x".into(),
                ..req
            })
            .expect_err("unknown appliance");
        assert_eq!(err.code(), "input.no_such_entry");
    }
}
