//! Parts issue and return (领料 / 退料), as the dispatcher records them in a technician's
//! [`StockLedger`]: issue from the centre, return of unused parts, return of the faulty parts taken
//! out on site (matched by the serial on the order's part line), and stock-take adjustments with a
//! reason. Also the stock per technician with its low-stock flags and the parts used per order and
//! per household, read from the visits. Pure functions over the documents; a refused movement
//! leaves the ledger as it was.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ledger::{EntryKind, FaultyReturn, StockLedger};
use crate::order::Order;
use crate::reference::PartsCatalogue;
use crate::visit::{StockSource, Visit};
use crate::{DomainError, Millis};

/// One movement of a catalogue part: who records it, when, and the entry's fresh id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Movement<'a> {
    pub id: &'a str,
    pub part_no: &'a str,
    /// How many; for [`adjust`] the signed correction.
    pub qty: i64,
    pub by: &'a str,
    /// Free text; for [`adjust`] the mandatory reason.
    pub note: &'a str,
    pub at_ms: Millis,
}

fn record(ledger: &mut StockLedger, kind: EntryKind, m: &Movement<'_>) -> Result<(), DomainError> {
    ledger.record(m.id, m.part_no, kind, m.qty, m.by, m.note, m.at_ms)
}

fn held(levels: &BTreeMap<String, i64>, part_no: &str) -> i64 {
    levels.get(part_no).copied().unwrap_or(0)
}

/// Issue `m.qty` (at least 1) of a catalogue part from the centre to the technician (领料).
pub fn issue(
    ledger: &mut StockLedger,
    catalogue: &PartsCatalogue,
    m: &Movement<'_>,
) -> Result<(), DomainError> {
    catalogue.part(m.part_no)?;
    record(ledger, EntryKind::Issued, m)
}

/// Take back `m.qty` (at least 1) unused parts (退料). `levels` is the technician's stock on hand
/// ([`crate::ledger::stock_levels`]); returning more than that is refused.
pub fn return_unused(
    ledger: &mut StockLedger,
    catalogue: &PartsCatalogue,
    levels: &BTreeMap<String, i64>,
    m: &Movement<'_>,
) -> Result<(), DomainError> {
    catalogue.part(m.part_no)?;
    if m.qty < 1 {
        return Err(DomainError::BadQuantity(m.qty));
    }
    let on_hand = held(levels, m.part_no);
    if m.qty > on_hand {
        return Err(DomainError::MoreThanHeld {
            part_no: m.part_no.to_owned(),
            held: on_hand,
            asked: m.qty,
        });
    }
    record(ledger, EntryKind::Returned, m)
}

/// Correct the technician's stock by `m.qty` (either sign, not zero) after a stock-take; `m.note`
/// is the reason and must not be empty. A correction that would leave less than zero is refused
/// (the stock-take counted what is there, and that is never negative).
pub fn adjust(
    ledger: &mut StockLedger,
    catalogue: &PartsCatalogue,
    levels: &BTreeMap<String, i64>,
    m: &Movement<'_>,
) -> Result<(), DomainError> {
    catalogue.part(m.part_no)?;
    if m.qty == 0 {
        return Err(DomainError::BadQuantity(0));
    }
    if m.note.trim().is_empty() {
        return Err(DomainError::Empty {
            what: "reason for the stock adjustment",
        });
    }
    let on_hand = held(levels, m.part_no);
    if m.qty < 0 && on_hand + m.qty < 0 {
        return Err(DomainError::MoreThanHeld {
            part_no: m.part_no.to_owned(),
            held: on_hand,
            asked: -m.qty,
        });
    }
    record(ledger, EntryKind::Adjusted, m)
}

/// A faulty part handed back: the order it came out on and the serial read off it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultyPart<'a> {
    pub id: &'a str,
    pub order_id: &'a str,
    pub serial: &'a str,
    pub by: &'a str,
    pub note: &'a str,
    pub at_ms: Millis,
}

/// Record the return of a faulty part taken out on site. `visits` are the visits of
/// `f.order_id`; the serial must be the `faulty_serial` of one of their part lines, and each
/// faulty part is returned once. Stock on hand does not change.
pub fn return_faulty<'a>(
    ledger: &mut StockLedger,
    visits: impl IntoIterator<Item = &'a Visit>,
    f: &FaultyPart<'_>,
) -> Result<(), DomainError> {
    let serial = f.serial.trim();
    if serial.is_empty() {
        return Err(DomainError::Empty {
            what: "serial of the faulty part",
        });
    }
    let line = visits
        .into_iter()
        .filter(|v| v.order_id == f.order_id)
        .flat_map(|v| &v.parts)
        .find(|p| p.faulty_serial.trim() == serial)
        .ok_or_else(|| DomainError::FaultySerialUnmatched {
            order_id: f.order_id.to_owned(),
            serial: serial.to_owned(),
        })?;
    let returns = &ledger.faulty_returns;
    if returns
        .iter()
        .any(|r| r.order_id == f.order_id && r.serial == serial)
    {
        return Err(DomainError::FaultyAlreadyReturned {
            order_id: f.order_id.to_owned(),
            serial: serial.to_owned(),
        });
    }
    if returns.iter().any(|r| r.id == f.id) || ledger.entries.iter().any(|e| e.id == f.id) {
        return Err(DomainError::DuplicateId(f.id.to_owned()));
    }
    ledger.faulty_returns.push(FaultyReturn {
        id: f.id.to_owned(),
        order_id: f.order_id.to_owned(),
        part_line_id: line.id.clone(),
        part_no: line.part_no.clone(),
        serial: serial.to_owned(),
        at_ms: f.at_ms,
        by: f.by.to_owned(),
        note: f.note.to_owned(),
    });
    Ok(())
}

/// One part in a technician's stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLine {
    pub part_no: String,
    pub on_hand: i64,
    /// Fewer than the threshold on hand (always so below zero).
    pub low: bool,
    /// More was used than issued: the dispatcher sees it as a conflict to resolve.
    pub negative: bool,
}

/// The technician's stock, one line per part ever issued or used (by part number), each flagged
/// low when fewer than `threshold` are on hand.
pub fn stock_lines(levels: &BTreeMap<String, i64>, threshold: i64) -> Vec<StockLine> {
    levels
        .iter()
        .map(|(part_no, &on_hand)| StockLine {
            part_no: part_no.clone(),
            on_hand,
            low: on_hand < threshold || on_hand < 0,
            negative: on_hand < 0,
        })
        .collect()
}

/// The low-stock list: the lines of [`stock_lines`] flagged low, lowest first (then part number).
pub fn low_stock(levels: &BTreeMap<String, i64>, threshold: i64) -> Vec<StockLine> {
    let mut low: Vec<StockLine> = stock_lines(levels, threshold)
        .into_iter()
        .filter(|l| l.low)
        .collect();
    low.sort_by(|a, b| (a.on_hand, &a.part_no).cmp(&(b.on_hand, &b.part_no)));
    low
}

/// One part line of a visit, with the order and technician it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsedPart {
    pub order_id: String,
    pub technician_id: String,
    pub line_id: String,
    pub part_no: String,
    pub qty: i64,
    pub source: StockSource,
    pub faulty_serial: String,
    pub replacement_serial: String,
}

fn used_in<'a>(
    orders: &BTreeSet<&str>,
    visits: impl IntoIterator<Item = &'a Visit>,
) -> Vec<UsedPart> {
    let mut used: Vec<UsedPart> = visits
        .into_iter()
        .filter(|v| orders.contains(v.order_id.as_str()))
        .flat_map(|v| {
            v.parts.iter().map(|p| UsedPart {
                order_id: v.order_id.clone(),
                technician_id: v.technician_id.clone(),
                line_id: p.id.clone(),
                part_no: p.part_no.clone(),
                qty: p.qty,
                source: p.source,
                faulty_serial: p.faulty_serial.clone(),
                replacement_serial: p.replacement_serial.clone(),
            })
        })
        .collect();
    // Stable: lines keep their order within a visit.
    used.sort_by(|a, b| (&a.order_id, &a.technician_id).cmp(&(&b.order_id, &b.technician_id)));
    used
}

/// The parts used on order `order_id`, from its visits (by technician, lines in visit order).
pub fn used_on_order<'a>(
    order_id: &str,
    visits: impl IntoIterator<Item = &'a Visit>,
) -> Vec<UsedPart> {
    used_in(&BTreeSet::from([order_id]), visits)
}

/// The parts used in household `household_id`: every part line of the visits of its orders
/// (by order id, then technician, lines in visit order).
pub fn used_in_household<'a>(
    household_id: &str,
    orders: &[Order],
    visits: impl IntoIterator<Item = &'a Visit>,
) -> Vec<UsedPart> {
    let ids: BTreeSet<&str> = orders
        .iter()
        .filter(|o| o.customer.household_id == household_id)
        .map(|o| o.order_id.as_str())
        .collect();
    used_in(&ids, visits)
}

/// The faulty parts still to come back from the ledger's technician: the part lines of their
/// visits that have a faulty serial not yet among the ledger's faulty returns of that order (as
/// [`return_faulty`] matches them). By order id, lines in visit order.
pub fn awaiting_faulty_return<'a>(
    ledger: &StockLedger,
    visits: impl IntoIterator<Item = &'a Visit>,
) -> Vec<UsedPart> {
    let returned = |u: &UsedPart| {
        ledger
            .faulty_returns
            .iter()
            .any(|r| r.order_id == u.order_id && r.serial == u.faulty_serial.trim())
    };
    let mine: Vec<&Visit> = visits
        .into_iter()
        .filter(|v| v.technician_id == ledger.technician_id)
        .collect();
    let orders: BTreeSet<&str> = mine.iter().map(|v| v.order_id.as_str()).collect();
    used_in(&orders, mine.iter().copied())
        .into_iter()
        .filter(|u| !u.faulty_serial.trim().is_empty() && !returned(u))
        .collect()
}

/// Quantity per part number over `used`.
pub fn totals(used: &[UsedPart]) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for u in used {
        *out.entry(u.part_no.clone()).or_default() += u.qty;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Code;

    fn m<'a>(id: &'a str, qty: i64, note: &'a str) -> Movement<'a> {
        Movement {
            id,
            part_no: "GEN-FUSE-10A",
            qty,
            by: "disp",
            note,
            at_ms: 1,
        }
    }

    #[test]
    fn a_stock_take_may_correct_negative_stock_up_but_never_take_stock_below_zero() {
        let catalogue = crate::seed::parts_catalogue();
        let mut ledger = StockLedger::new("t1");
        let negative = BTreeMap::from([("GEN-FUSE-10A".to_owned(), -2)]);
        assert_eq!(
            adjust(&mut ledger, &catalogue, &negative, &m("a", -1, "count")).map_err(|e| e.code()),
            Err(Code::PartsMoreThanHeld),
            "already below zero: a further decrease is refused"
        );
        adjust(
            &mut ledger,
            &catalogue,
            &negative,
            &m("b", 2, "found 2 in the van"),
        )
        .expect("an increase is a correction towards the truth");
        assert_eq!(
            ledger.entries.len(),
            1,
            "only the accepted adjustment is written"
        );
        assert_eq!(
            ledger.entries[0].note, "found 2 in the van",
            "the reason is kept"
        );
    }

    #[test]
    fn a_return_is_checked_against_the_stock_on_hand() {
        let catalogue = crate::seed::parts_catalogue();
        let mut ledger = StockLedger::new("t1");
        let held = BTreeMap::from([("GEN-FUSE-10A".to_owned(), 3)]);
        let err = return_unused(&mut ledger, &catalogue, &held, &m("a", 4, "")).unwrap_err();
        assert_eq!(err.code(), Code::PartsMoreThanHeld);
        assert!(
            err.to_string().contains("holds 3") && err.to_string().contains("the 4 asked"),
            "the message gives both figures: {err}"
        );
        return_unused(&mut ledger, &catalogue, &held, &m("b", 3, "")).expect("all 3 back");
        assert_eq!(ledger.entries[0].delta, -3, "a return is negative");
    }
}
