//! A technician's personal stock ledger (`ledger:<technician>`): append-only entries written by
//! dispatchers. Stock on hand = sum of entries − parts used from personal stock on visits, so
//! concurrent offline entries never lose a count.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::visit::{StockSource, Visit};
use crate::{DomainError, Millis};

/// Why stock moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub enum EntryKind {
    /// Issued from the warehouse to the technician (领料): positive.
    Issued,
    /// Returned by the technician to the warehouse (退料): negative.
    Returned,
    /// Stock-take correction: either sign.
    Adjusted,
}

/// One ledger entry.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct LedgerEntry {
    #[key]
    pub id: String,
    pub part_no: String,
    pub kind: EntryKind,
    /// Signed quantity change.
    pub delta: i64,
    pub at_ms: Millis,
    pub by: String,
    pub note: String,
}

/// A faulty part taken out on site and handed back to the centre (退料, faulty), matched by its
/// serial to the part line of the order's visit that recorded it. It never counts as stock.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct FaultyReturn {
    #[key]
    pub id: String,
    pub order_id: String,
    /// The visit's part line ([`crate::visit::PartUse::id`]) whose `faulty_serial` this is.
    pub part_line_id: String,
    pub part_no: String,
    pub serial: String,
    pub at_ms: Millis,
    pub by: String,
    pub note: String,
}

/// The ledger document.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct StockLedger {
    pub schema: u32,
    pub technician_id: String,
    pub entries: Vec<LedgerEntry>,
    /// Faulty parts returned (see [`crate::parts::return_faulty`]). A ledger written before this
    /// field existed reads as none.
    #[autosurgeon(missing = "Vec::new")]
    #[serde(default)]
    pub faulty_returns: Vec<FaultyReturn>,
}

impl StockLedger {
    pub fn new(technician_id: &str) -> Self {
        StockLedger {
            schema: crate::templates::SCHEMA,
            technician_id: technician_id.to_owned(),
            entries: Vec::new(),
            faulty_returns: Vec::new(),
        }
    }

    /// Append an entry; the sign of `qty` follows `kind` (issued +, returned −, adjusted as given).
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &mut self,
        id: &str,
        part_no: &str,
        kind: EntryKind,
        qty: i64,
        by: &str,
        note: &str,
        now: Millis,
    ) -> Result<(), DomainError> {
        if self.entries.iter().any(|e| e.id == id) {
            return Err(DomainError::DuplicateId(id.to_owned()));
        }
        let delta = match kind {
            EntryKind::Issued if qty > 0 => qty,
            EntryKind::Returned if qty > 0 => -qty,
            EntryKind::Adjusted if qty != 0 => qty,
            _ => return Err(DomainError::BadQuantity(qty)),
        };
        self.entries.push(LedgerEntry {
            id: id.to_owned(),
            part_no: part_no.to_owned(),
            kind,
            delta,
            at_ms: now,
            by: by.to_owned(),
            note: note.to_owned(),
        });
        Ok(())
    }
}

/// On-hand quantity per part number: ledger entries minus parts taken from personal stock on the
/// technician's visits. Negative numbers mean more was used than was issued.
pub fn stock_levels<'a>(
    ledger: &StockLedger,
    visits: impl IntoIterator<Item = &'a Visit>,
) -> BTreeMap<String, i64> {
    let mut levels: BTreeMap<String, i64> = BTreeMap::new();
    for e in &ledger.entries {
        *levels.entry(e.part_no.clone()).or_default() += e.delta;
    }
    for v in visits {
        if v.technician_id != ledger.technician_id {
            continue;
        }
        for p in v.parts.iter().filter(|p| p.source == StockSource::Personal) {
            *levels.entry(p.part_no.clone()).or_default() -= p.qty;
        }
    }
    levels
}

/// Personal stock of one part before and after taking `qty` of it for a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockAfterUse {
    pub on_hand: i64,
    pub left: i64,
    /// Taking the part this way would take personal stock below zero: warn before adding it.
    pub below_zero: bool,
}

/// What taking `qty` of `part_no` from `source` leaves in personal stock, given the levels from
/// [`stock_levels`]. Parts from the warehouse never touch personal stock.
pub fn after_use(
    levels: &BTreeMap<String, i64>,
    part_no: &str,
    qty: i64,
    source: StockSource,
) -> StockAfterUse {
    let on_hand = levels.get(part_no).copied().unwrap_or(0);
    let left = match source {
        StockSource::Personal => on_hand - qty,
        StockSource::Warehouse => on_hand,
    };
    StockAfterUse {
        on_hand,
        left,
        below_zero: left < 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_follow_the_entry_kind() {
        let mut l = StockLedger::new("t1");
        l.record("a", "P1", EntryKind::Issued, 5, "disp", "", 1)
            .unwrap();
        l.record("b", "P1", EntryKind::Returned, 2, "disp", "", 2)
            .unwrap();
        l.record("c", "P1", EntryKind::Adjusted, -1, "disp", "stock-take", 3)
            .unwrap();
        let lv = stock_levels(&l, []);
        assert_eq!(lv["P1"], 2, "5 issued − 2 returned − 1 adjusted");
    }

    #[test]
    fn only_personal_stock_taken_below_zero_warns() {
        let levels = BTreeMap::from([("P1".to_owned(), 2)]);
        let personal = |qty| after_use(&levels, "P1", qty, StockSource::Personal);
        assert_eq!(
            personal(2),
            StockAfterUse {
                on_hand: 2,
                left: 0,
                below_zero: false
            },
            "using exactly what is on hand leaves zero, no warning"
        );
        assert!(
            personal(3).below_zero,
            "one more than on hand goes below zero"
        );
        assert_eq!(personal(3).left, -1);
        let warehouse = after_use(&levels, "P1", 30, StockSource::Warehouse);
        assert!(
            !warehouse.below_zero && warehouse.left == 2,
            "warehouse parts never touch personal stock: {warehouse:?}"
        );
        assert!(
            after_use(&levels, "P9", 1, StockSource::Personal).below_zero,
            "a part never issued is at zero, so taking one goes below"
        );
    }

    #[test]
    fn zero_or_negative_quantities_are_refused() {
        let mut l = StockLedger::new("t1");
        assert_eq!(
            l.record("a", "P1", EntryKind::Issued, 0, "d", "", 1)
                .unwrap_err()
                .code(),
            "input.bad_quantity"
        );
        assert_eq!(
            l.record("a", "P1", EntryKind::Returned, -3, "d", "", 1)
                .unwrap_err()
                .code(),
            "input.bad_quantity"
        );
        assert_eq!(
            l.record("a", "P1", EntryKind::Adjusted, 0, "d", "", 1)
                .unwrap_err()
                .code(),
            "input.bad_quantity"
        );
        assert!(l.entries.is_empty(), "a refused entry must not be written");
    }

    #[test]
    fn a_ledger_written_before_faulty_returns_existed_still_reads() {
        use automerge::transaction::Transactable;
        let mut l = StockLedger::new("t1");
        l.record("a", "P1", EntryKind::Issued, 2, "d", "", 1)
            .unwrap();
        let mut old = crate::doc::create(&l).expect("create");
        old.delete(automerge::ROOT, "faulty_returns")
            .expect("drop the field");
        old.commit();
        let read: StockLedger = crate::doc::read(&old).expect("an older ledger still hydrates");
        assert_eq!(read, l, "a missing list of faulty returns reads as empty");
    }

    #[test]
    fn duplicate_entry_ids_are_refused() {
        let mut l = StockLedger::new("t1");
        l.record("a", "P1", EntryKind::Issued, 1, "d", "", 1)
            .unwrap();
        assert_eq!(
            l.record("a", "P1", EntryKind::Issued, 1, "d", "", 1)
                .unwrap_err()
                .code(),
            "input.duplicate_id"
        );
    }
}
