//! The technician's order lists beyond Today: the days after tomorrow, and search.

use onsite_domain::{HOUR, Millis};

use super::{App, lock};
use crate::convert::order_card_from_row;
use crate::error::AppError;
use crate::view::OrderList;

/// Most orders a search returns.
pub const SEARCH_LIMIT: usize = 50;

impl App {
    /// Start of the device's local day containing `now`, in UTC milliseconds.
    pub(super) fn local_day_start(&self, now: Millis) -> Millis {
        let local = now + self.utc_offset_ms;
        local - local.rem_euclid(24 * HOUR) - self.utc_offset_ms
    }

    /// The technician's open orders scheduled after tomorrow (device local day), by schedule,
    /// with SLA badges evaluated now.
    pub fn upcoming(&self) -> Result<OrderList, AppError> {
        let tech = self.technician()?;
        self.refuse_while_handing_over()?;
        let now = self.now();
        let from = self.local_day_start(now) + 2 * 24 * HOUR;
        let rows = lock(&self.store).upcoming(&tech, from, now)?;
        Ok(OrderList {
            now_ms: now,
            orders: rows
                .iter()
                .map(|r| order_card_from_row(&r.order, r.sla.badge))
                .collect(),
        })
    }

    /// The technician's orders whose number, customer name, phone or address contains `query`
    /// (offline, from the device store): open orders first, each by schedule; at most
    /// [`SEARCH_LIMIT`]. An empty query finds nothing.
    pub fn search_orders(&self, query: &str) -> Result<OrderList, AppError> {
        let tech = self.technician()?;
        self.refuse_while_handing_over()?;
        let now = self.now();
        let rows = lock(&self.store).search_orders(&tech, query, SEARCH_LIMIT, now)?;
        Ok(OrderList {
            now_ms: now,
            orders: rows
                .iter()
                .map(|r| order_card_from_row(&r.order, r.sla.badge))
                .collect(),
        })
    }
}
