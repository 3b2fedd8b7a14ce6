//! An appliance's service history on both sides (`onsite_domain::history`): the dispatcher's
//! device computes it from the service centre's orders and visits and writes it into the order it
//! creates or (re)assigns; the technician's device merges that snapshot with what it knows itself,
//! so a visit by another technician to the same appliance shows offline.

use onsite_domain::history::{self, HISTORY_LIMIT, ServiceEntry, Subject};
use onsite_domain::order::Order;
use onsite_domain::reference::{TechnicianProfile, TemplateLibrary};
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, templates};
use onsite_store::Store;

use super::dispatch_read::Snapshot;
use crate::error::AppError;

/// The template library on this device (labels of readings), or an empty one before the first
/// sync: readings are then named by their item ids.
fn library(store: &Store) -> Result<TemplateLibrary, AppError> {
    Ok(if store.contains(&DocId::Templates)? {
        store.read(&DocId::Templates)?
    } else {
        TemplateLibrary {
            schema: templates::SCHEMA,
            templates: Vec::new(),
        }
    })
}

/// The snapshot the dispatcher's device writes into `order`: its appliance's history from every
/// order and visit on this device, at most [`HISTORY_LIMIT`] entries.
pub(super) fn snapshot_for(store: &Store, order: &Order) -> Result<Vec<ServiceEntry>, AppError> {
    let snap = Snapshot::read(store)?;
    let name_of = |t: &str| snap.name_of(t);
    Ok(history::appliance_history(
        Subject::of(order),
        &snap.orders,
        &snap.visits,
        &library(store)?,
        &name_of,
        HISTORY_LIMIT,
    ))
}

/// What the technician's device shows for appliance `appliance_id` of `order`'s household: the
/// order's snapshot (for the order's own appliance) merged with the household's orders and
/// visits on this device.
pub(super) fn shown_for(
    store: &Store,
    order: &Order,
    appliance_id: &str,
) -> Result<Vec<ServiceEntry>, AppError> {
    let household = &order.customer.household_id;
    let mut orders = Vec::new();
    let mut visits: Vec<Visit> = Vec::new();
    for row in store.household_history(household)? {
        let other: Order = store.read(&DocId::Order(row.order.order_id.clone()))?;
        for v in store.visits_of_order(&other.order_id)? {
            visits.push(store.read(&DocId::visit(&v.order_id, &v.technician_id))?);
        }
        orders.push(other);
    }
    let name_of = |t: &str| -> String {
        let id = DocId::Profile(t.to_owned());
        match store.read::<TechnicianProfile>(&id) {
            Ok(p) if store.contains(&id).unwrap_or(false) => p.name,
            _ => t.to_owned(),
        }
    };
    let subject = Subject {
        household_id: household,
        appliance_id,
        except_order_id: &order.order_id,
    };
    let local = history::appliance_history(
        subject,
        &orders,
        &visits,
        &library(store)?,
        &name_of,
        HISTORY_LIMIT,
    );
    let snapshot: &[ServiceEntry] = if appliance_id == order.appliance_id {
        &order.appliance_history
    } else {
        &[]
    };
    Ok(history::merge(snapshot, local, HISTORY_LIMIT))
}
