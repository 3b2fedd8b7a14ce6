//! Hand-over mode: while the customer holds the device to confirm, rate and sign, only that
//! order's hand-over is reachable. The lock is kept in the device store, so it survives an app
//! restart mid-hand-over; it ends when the customer signs or the technician unlocks it (the UI
//! asks for a deliberate gesture).

use onsite_domain::DocId;

use super::{App, lock};
use crate::error::AppError;
use crate::view::HandoverLock;

/// Key of the order the device is handed over for.
const HANDOVER_KEY: &str = "app.handover_order";

/// End hand-over mode (the customer signed).
pub(super) fn end(store: &mut onsite_store::Store) -> Result<(), AppError> {
    store.kv_delete(HANDOVER_KEY)?;
    Ok(())
}

impl App {
    /// The order the device is handed over for, if any.
    pub fn handover_lock(&self) -> Result<HandoverLock, AppError> {
        let order_id = lock(&self.store)
            .kv_get(HANDOVER_KEY)?
            .and_then(|b| String::from_utf8(b).ok())
            .filter(|o| !o.is_empty());
        Ok(HandoverLock { order_id })
    }

    /// Hand the device over to the customer of `order_id`: until they sign or the technician
    /// unlocks, lists and other orders are refused with `handover.locked`.
    pub fn lock_handover(&self, order_id: &str) -> Result<HandoverLock, AppError> {
        self.technician()?;
        let mut store = lock(&self.store);
        if !store.contains(&DocId::Order(order_id.to_owned()))? {
            return Err(AppError::OrderNotFound(order_id.to_owned()));
        }
        store.kv_set(HANDOVER_KEY, order_id.as_bytes())?;
        drop(store);
        self.handover_lock()
    }

    /// The technician takes the device back.
    pub fn unlock_handover(&self) -> Result<HandoverLock, AppError> {
        end(&mut lock(&self.store))?;
        self.handover_lock()
    }

    /// Refuse a list while the device is handed over.
    pub(super) fn refuse_while_handing_over(&self) -> Result<(), AppError> {
        match self.handover_lock()?.order_id {
            Some(o) => Err(AppError::HandoverLocked(o)),
            None => Ok(()),
        }
    }

    /// Refuse any order but the handed-over one while the device is handed over.
    pub(super) fn refuse_other_order(&self, order_id: &str) -> Result<(), AppError> {
        match self.handover_lock()?.order_id {
            Some(o) if o != order_id => Err(AppError::HandoverLocked(o)),
            _ => Ok(()),
        }
    }
}
