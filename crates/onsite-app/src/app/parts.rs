//! The dispatcher's parts issue and return (领料 / 退料): issue to a technician, take back unused
//! parts and the faulty parts taken out on site, adjust after a stock-take, and each technician's
//! stock with its low-stock flags. The rules are `onsite_domain::parts`; a movement is written to
//! the technician's ledger document on this device and synced like every other edit.

use std::collections::BTreeMap;

use onsite_domain::ledger::{EntryKind, StockLedger};
use onsite_domain::parts::{self, FaultyPart, Movement};
use onsite_domain::reference::{PartsCatalogue, TechnicianProfile};
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, DomainError};
use onsite_store::Store;

use super::{App, lock, read_order};
use crate::error::AppError;
use crate::view::*;

/// A part is low in a technician's stock when fewer than this are on hand.
pub const LOW_STOCK_THRESHOLD: i64 = 2;

/// Which movement a [`StockMoveRequest`] records.
#[derive(Debug, Clone, Copy)]
enum Move {
    Issue,
    Return,
    Adjust,
}

impl App {
    /// Issue parts from the centre to a technician (领料).
    pub fn issue_parts(&self, req: StockMoveRequest) -> Result<TechnicianStockView, AppError> {
        self.move_stock(Move::Issue, req)
    }

    /// Take back unused parts from a technician (退料); never more than they hold.
    pub fn return_parts(&self, req: StockMoveRequest) -> Result<TechnicianStockView, AppError> {
        self.move_stock(Move::Return, req)
    }

    /// Correct a technician's stock after a stock-take; `note` is the mandatory reason.
    pub fn adjust_stock(&self, req: StockMoveRequest) -> Result<TechnicianStockView, AppError> {
        self.move_stock(Move::Adjust, req)
    }

    fn move_stock(
        &self,
        kind: Move,
        req: StockMoveRequest,
    ) -> Result<TechnicianStockView, AppError> {
        let by = self.dispatcher()?;
        let now = self.now();
        let id = (self.new_id)();
        {
            let mut store = lock(&self.store);
            let catalogue: PartsCatalogue = store.read(&DocId::PartsCatalogue)?;
            let levels = store.stock_levels(&req.technician_id)?;
            let m = Movement {
                id: &id,
                part_no: req.part_no.trim(),
                qty: req.qty,
                by: &by,
                note: req.note.trim(),
                at_ms: now,
            };
            update_ledger(&mut store, &req.technician_id, |ledger| match kind {
                Move::Issue => parts::issue(ledger, &catalogue, &m),
                Move::Return => parts::return_unused(ledger, &catalogue, &levels, &m),
                Move::Adjust => parts::adjust(ledger, &catalogue, &levels, &m),
            })?;
        }
        self.nudge();
        self.technician_stock(&req.technician_id)
    }

    /// Take back the faulty part taken out on site on an order, matched by the serial on the
    /// order's part line. Stock on hand does not change.
    pub fn return_faulty_part(
        &self,
        req: FaultyReturnRequest,
    ) -> Result<TechnicianStockView, AppError> {
        let by = self.dispatcher()?;
        let now = self.now();
        let id = (self.new_id)();
        {
            let mut store = lock(&self.store);
            read_order(&store, &req.order_id)?;
            let visits = store
                .visits_of_order(&req.order_id)?
                .iter()
                .map(|row| store.read::<Visit>(&DocId::visit(&row.order_id, &row.technician_id)))
                .collect::<Result<Vec<Visit>, _>>()?;
            let f = FaultyPart {
                id: &id,
                order_id: &req.order_id,
                serial: &req.serial,
                by: &by,
                note: req.note.trim(),
                at_ms: now,
            };
            update_ledger(&mut store, &req.technician_id, |ledger| {
                parts::return_faulty(ledger, &visits, &f)
            })?;
        }
        self.nudge();
        self.technician_stock(&req.technician_id)
    }

    /// A technician's stock: every part ever issued or used with its low and negative flags,
    /// the movements and the faulty returns, newest first.
    pub fn technician_stock(&self, technician_id: &str) -> Result<TechnicianStockView, AppError> {
        self.dispatcher()?;
        let store = lock(&self.store);
        let ledger = read_ledger(&store, technician_id)?;
        let catalogue: PartsCatalogue = store.read(&DocId::PartsCatalogue)?;
        let levels = store.stock_levels(technician_id)?;
        let mut view = stock_view(
            &ledger,
            &catalogue,
            &levels,
            technician_name(&store, technician_id)?,
        );
        let visits = visits_of(&store, technician_id)?;
        let order_no = |order_id: &str| -> Result<String, AppError> {
            Ok(read_order(&store, order_id)?.order_no)
        };
        for r in &mut view.faulty_returns {
            r.order_no = order_no(&r.order_id)?;
        }
        for u in parts::awaiting_faulty_return(&ledger, &visits) {
            let line = visits
                .iter()
                .filter(|v| v.order_id == u.order_id)
                .flat_map(|v| &v.parts)
                .find(|p| p.id == u.line_id);
            view.awaiting_faulty.push(AwaitingFaultyView {
                order_no: order_no(&u.order_id)?,
                name_zh_cn: line.map(|p| p.name_zh_cn.clone()).unwrap_or_default(),
                name_en: line.map(|p| p.name_en.clone()).unwrap_or_default(),
                order_id: u.order_id,
                part_line_id: u.line_id,
                part_no: u.part_no,
                serial: u.faulty_serial.trim().to_owned(),
            });
        }
        Ok(view)
    }

    /// Every technician whose ledger is on this device, with their low and negative counts.
    pub fn stock_overview(&self) -> Result<StockOverview, AppError> {
        self.dispatcher()?;
        let store = lock(&self.store);
        let mut technicians = Vec::new();
        for id in store.list_doc_ids()? {
            let DocId::Ledger(t) = id else { continue };
            let lines = parts::stock_lines(&store.stock_levels(&t)?, LOW_STOCK_THRESHOLD);
            technicians.push(StockSummaryView {
                technician_name: technician_name(&store, &t)?,
                low_count: lines.iter().filter(|l| l.low).count() as u32,
                negative_count: lines.iter().filter(|l| l.negative).count() as u32,
                technician_id: t,
            });
        }
        technicians.sort_by(|a, b| a.technician_id.cmp(&b.technician_id));
        Ok(StockOverview {
            low_threshold: LOW_STOCK_THRESHOLD,
            technicians,
        })
    }
}

/// The ledger of `technician_id`; a technician whose ledger is not on this device cannot be
/// given parts (the ledger is created with the technician, never by a second device offline).
fn read_ledger(store: &Store, technician_id: &str) -> Result<StockLedger, AppError> {
    let id = DocId::Ledger(technician_id.to_owned());
    if !store.contains(&id)? {
        return Err(AppError::NoLedger(technician_id.to_owned()));
    }
    Ok(store.read(&id)?)
}

fn update_ledger(
    store: &mut Store,
    technician_id: &str,
    f: impl FnOnce(&mut StockLedger) -> Result<(), DomainError>,
) -> Result<(), AppError> {
    read_ledger(store, technician_id)?;
    store.update::<StockLedger, _>(&DocId::Ledger(technician_id.to_owned()), f)?;
    Ok(())
}

/// Every visit of `technician_id` on this device.
fn visits_of(store: &Store, technician_id: &str) -> Result<Vec<Visit>, AppError> {
    let mut out = Vec::new();
    for id in store.list_doc_ids()? {
        if matches!(&id, DocId::Visit { technician_id: t, .. } if t == technician_id) {
            out.push(store.read(&id)?);
        }
    }
    Ok(out)
}

/// The technician's name from their profile, or their id when the profile is not here.
fn technician_name(store: &Store, technician_id: &str) -> Result<String, AppError> {
    let id = DocId::Profile(technician_id.to_owned());
    Ok(if store.contains(&id)? {
        store.read::<TechnicianProfile>(&id)?.name
    } else {
        technician_id.to_owned()
    })
}

fn stock_view(
    ledger: &StockLedger,
    catalogue: &PartsCatalogue,
    levels: &BTreeMap<String, i64>,
    technician_name: String,
) -> TechnicianStockView {
    let lines: Vec<StockLineView> = parts::stock_lines(levels, LOW_STOCK_THRESHOLD)
        .into_iter()
        .map(|l| {
            let name = catalogue.part(&l.part_no).ok().map(|p| &p.name);
            StockLineView {
                name_zh_cn: name.map(|n| n.zh_cn.clone()).unwrap_or_default(),
                name_en: name.map(|n| n.en.clone()).unwrap_or_default(),
                part_no: l.part_no,
                on_hand: l.on_hand,
                low: l.low,
                negative: l.negative,
            }
        })
        .collect();
    // Newest first; entries of the same instant in reverse order of writing.
    let mut entries: Vec<StockEntryView> = ledger
        .entries
        .iter()
        .rev()
        .map(|e| StockEntryView {
            id: e.id.clone(),
            part_no: e.part_no.clone(),
            kind: match e.kind {
                EntryKind::Issued => StockMoveKind::Issued,
                EntryKind::Returned => StockMoveKind::Returned,
                EntryKind::Adjusted => StockMoveKind::Adjusted,
            },
            delta: e.delta,
            at_ms: e.at_ms,
            by: e.by.clone(),
            note: e.note.clone(),
        })
        .collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.at_ms));
    let mut faulty_returns: Vec<FaultyReturnView> = ledger
        .faulty_returns
        .iter()
        .rev()
        .map(|r| FaultyReturnView {
            order_id: r.order_id.clone(),
            order_no: String::new(),
            part_no: r.part_no.clone(),
            serial: r.serial.clone(),
            at_ms: r.at_ms,
            by: r.by.clone(),
            note: r.note.clone(),
        })
        .collect();
    faulty_returns.sort_by_key(|r| std::cmp::Reverse(r.at_ms));
    TechnicianStockView {
        technician_id: ledger.technician_id.clone(),
        technician_name,
        low_threshold: LOW_STOCK_THRESHOLD,
        low_count: lines.iter().filter(|l| l.low).count() as u32,
        negative_count: lines.iter().filter(|l| l.negative).count() as u32,
        lines,
        entries,
        faulty_returns,
        awaiting_faulty: Vec::new(),
    }
}
