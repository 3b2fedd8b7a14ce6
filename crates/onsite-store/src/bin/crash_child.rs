//! Child process of the durability test (`tests/durability.rs`): opens the store given as the
//! first argument, then makes edits — alternately an entry in the ledger of `<ledger-owner>` and a
//! part used on one of `<technician>`'s visits for the given orders — and prints `ack <id>` on
//! stdout after each one has been committed, until it is killed or has made `<edits>` edits.
//! Not an end-user tool.

use std::io::Write;

use onsite_domain::DocId;
use onsite_domain::edit::VisitEdit;
use onsite_domain::ledger::{EntryKind, StockLedger};
use onsite_domain::visit::StockSource;
use onsite_store::Store;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, db, prefix, count, ledger_owner, technician, orders] = args.as_slice() else {
        return Err(
            "usage: onsite-store-crash-child <db> <id-prefix> <edits> <ledger-owner> \
                    <technician> <order,order,…>"
                .into(),
        );
    };
    let count: u32 = count.parse()?;
    let orders: Vec<&str> = orders.split(',').collect();
    let mut store = Store::open(db, None)?;
    let mut out = std::io::stdout().lock();
    let ledger = DocId::Ledger(ledger_owner.clone());
    for n in 0..count {
        let id = format!("{prefix}-{n}");
        let now = 1_800_000_000_000 + i64::from(n);
        if n % 2 == 0 {
            store.update::<StockLedger, _>(&ledger, |l| {
                l.record(
                    &id,
                    "GEN-FUSE-10A",
                    EntryKind::Issued,
                    2,
                    "dispatch",
                    "",
                    now,
                )
            })?;
        } else {
            let order = orders[(n as usize / 2) % orders.len()];
            store.apply_visit_edit(
                order,
                technician,
                VisitEdit::AddPart {
                    id: id.clone(),
                    part_no: "GEN-FUSE-10A".into(),
                    qty: 1,
                    faulty_serial: String::new(),
                    replacement_serial: String::new(),
                    source: StockSource::Personal,
                },
                now,
            )?;
        }
        writeln!(out, "ack {id}")?;
        out.flush()?;
    }
    Ok(())
}
