//! Bad input gives typed errors and writes nothing: damaged document bytes and rows (left exactly
//! as found), invalid sync data, unknown template versions, readings in the wrong unit, documents
//! and databases from a newer app, damaged attachments.

mod common;

use common::*;
use onsite_domain::edit::VisitEdit;
use onsite_domain::ledger::{EntryKind, StockLedger};
use onsite_domain::order::Order;
use onsite_domain::reference::TemplateLibrary;
use onsite_domain::visit::{Outcome, Visit};
use onsite_domain::{DocId, HOUR};
use onsite_store::{DB_FILE, Store};
use rusqlite::{Connection, params};
use tempfile::TempDir;

fn seeded() -> (TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open_in(dir.path()).expect("open");
    seed_reference(&mut store, &["t1"]);
    (dir, store)
}

fn raw(dir: &TempDir) -> Connection {
    Connection::open(dir.path().join(DB_FILE)).expect("raw connection")
}

/// Every byte of a document's rows, to prove they were not touched.
fn rows_of(conn: &Connection, key: &str) -> (Vec<u8>, Vec<(i64, Vec<u8>)>) {
    let snapshot: Vec<u8> = conn
        .query_row(
            "SELECT snapshot FROM docs WHERE doc_id = ?1",
            params![key],
            |r| r.get(0),
        )
        .unwrap();
    let mut stmt = conn
        .prepare("SELECT seq, bytes FROM doc_changes WHERE doc_id = ?1 ORDER BY seq")
        .unwrap();
    let changes = stmt
        .query_map(params![key], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    (snapshot, changes)
}

/// Flip a byte in the middle of document `key`'s snapshot and cut its tail (as a failing disk
/// would); returns the damaged rows, to prove later that they were left as found.
fn damage_snapshot(dir: &TempDir, key: &str) -> (Vec<u8>, Vec<(i64, Vec<u8>)>) {
    let conn = raw(dir);
    let (mut snapshot, _) = rows_of(&conn, key);
    let mid = snapshot.len() / 2;
    snapshot[mid] ^= 0xff;
    snapshot.truncate(snapshot.len() - 3);
    conn.execute(
        "UPDATE docs SET snapshot = ?2 WHERE doc_id = ?1",
        params![key, snapshot],
    )
    .expect("damage the snapshot");
    rows_of(&conn, key)
}

fn add_entry(
    store: &mut Store,
    id: &DocId,
    entry: &str,
) -> Result<StockLedger, onsite_store::StoreError> {
    store.update(id, |l: &mut StockLedger| {
        l.record(entry, "WH-ANODE", EntryKind::Issued, 1, "d", "", DAY)
    })
}

#[test]
fn corrupt_snapshot_bytes_give_a_typed_error_on_every_access_and_stay_untouched() {
    let (dir, mut store) = seeded();
    let order_id = create_order(&mut store, 1, DAY, "t1");
    let key = format!("order:{order_id}");
    drop(store);
    let damaged = damage_snapshot(&dir, &key);

    let mut store =
        Store::open_in(dir.path()).expect("a damaged document does not stop the store opening");
    let id = DocId::Order(order_id.clone());
    let err = store.read::<Order>(&id).unwrap_err();
    assert_eq!(err.code(), "document.corrupt", "{err}");
    assert!(
        err.to_string().contains(&key),
        "the message names the document: {err}"
    );
    let err = store
        .update(&id, |o: &mut Order| {
            o.problem = "overwrite".into();
            Ok(())
        })
        .unwrap_err();
    assert_eq!(err.code(), "document.corrupt", "a write is refused too");
    let err = store.merge_remote(&id, &[]).unwrap_err();
    assert_eq!(err.code(), "document.corrupt", "sync cannot paper over it");
    assert_eq!(store.load_doc(&id).unwrap_err().code(), "document.corrupt");
    assert_eq!(
        store.start_visit(&order_id, "t1").unwrap_err().code(),
        "document.corrupt"
    );
    assert_eq!(
        store.integrity_check().unwrap_err().code(),
        "document.corrupt"
    );
    assert!(store.list_doc_ids().unwrap().contains(&id), "still listed");
    assert_eq!(
        rows_of(&raw(&dir), &key),
        damaged,
        "the damaged rows are left exactly as found"
    );
    drop(store);
    let mut store = Store::open_in(dir.path()).unwrap();
    assert_eq!(
        store.read::<Order>(&id).unwrap_err().code(),
        "document.corrupt",
        "still after reopening"
    );
    assert_eq!(
        store.rebuild_indexes().unwrap(),
        1,
        "rebuilding the indexes leaves the damaged order out instead of failing"
    );
    assert_eq!(store.order_row(&order_id).unwrap(), None);
    assert_eq!(rows_of(&raw(&dir), &key), damaged, "still untouched");
}

#[test]
fn a_damaged_or_missing_change_row_is_reported_not_skipped() {
    let (dir, mut store) = seeded();
    let id = DocId::Ledger("t1".into());
    for n in 0..3 {
        add_entry(&mut store, &id, &format!("e{n}")).unwrap();
    }
    drop(store);
    let key = id.to_string();

    // Garbage in one change row.
    let conn = raw(&dir);
    let (_, changes) = rows_of(&conn, &key);
    assert_eq!(changes.len(), 3);
    conn.execute(
        "UPDATE doc_changes SET bytes = ?3 WHERE doc_id = ?1 AND seq = ?2",
        params![key, changes[1].0, b"\x85\x6f\x4a\x83 not a change".to_vec()],
    )
    .unwrap();
    let damaged = rows_of(&conn, &key);
    let mut store = Store::open_in(dir.path()).unwrap();
    assert_eq!(
        store.read::<StockLedger>(&id).unwrap_err().code(),
        "document.corrupt"
    );
    assert_eq!(
        add_entry(&mut store, &id, "e9").unwrap_err().code(),
        "document.corrupt"
    );
    assert_eq!(rows_of(&raw(&dir), &key), damaged);
    drop(store);

    // A change row gone from the middle: later changes depend on it.
    let conn = raw(&dir);
    conn.execute(
        "UPDATE doc_changes SET bytes = ?3 WHERE doc_id = ?1 AND seq = ?2",
        params![key, changes[1].0, changes[1].1],
    )
    .unwrap();
    conn.execute(
        "DELETE FROM doc_changes WHERE doc_id = ?1 AND seq = ?2",
        params![key, changes[0].0],
    )
    .unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    let err = store.read::<StockLedger>(&id).unwrap_err();
    assert_eq!(err.code(), "document.corrupt");
    assert!(err.to_string().contains("not stored"), "{err}");
}

#[test]
fn invalid_sync_data_is_refused_and_nothing_is_created() {
    let (_dir, mut store) = seeded();
    let id = DocId::Order("o-remote".into());
    let err = store
        .merge_remote(&id, b"definitely not automerge")
        .unwrap_err();
    assert_eq!(err.code(), "sync.bad_document_data");
    assert!(
        !store.contains(&id).unwrap(),
        "no document is created from bad bytes"
    );

    // Valid Automerge bytes of the wrong shape for an order: refused by the index refresh.
    let mut other = Store::open_in(tempfile::tempdir().unwrap().path()).unwrap();
    other
        .create(&DocId::Ledger("t9".into()), &StockLedger::new("t9"))
        .unwrap();
    let mut wrong = other.load_doc(&DocId::Ledger("t9".into())).unwrap();
    let err = store.merge_remote(&id, &wrong.save()).unwrap_err();
    assert_eq!(err.code(), "document.unexpected_shape", "{err}");
    assert!(!store.contains(&id).unwrap());
    assert_eq!(store.order_row("o-remote").unwrap(), None);
}

fn received(sync_state: &[u8]) -> onsite_store::Received<'_> {
    onsite_store::Received {
        sync_state,
        shared_heads: &[],
        refused: false,
    }
}

#[test]
fn received_documents_taken_together_are_all_stored_or_none() {
    let (_dir, mut store) = seeded();
    let mut source = Store::open_in(tempfile::tempdir().unwrap().path()).unwrap();
    seed_reference(&mut source, &["t1"]);
    let orders: Vec<String> = (0..3)
        .map(|n| create_order(&mut source, n, DAY, "t1"))
        .collect();
    source
        .create(&DocId::Ledger("t9".into()), &StockLedger::new("t9"))
        .unwrap();
    let doc = |s: &Store, o: &str| s.load_doc(&DocId::Order(o.into())).unwrap();

    // The third "order" is a ledger's bytes: refused by the index refresh, and with it the batch.
    let wrong = source.load_doc(&DocId::Ledger("t9".into())).unwrap();
    let err = store
        .batch(|b| {
            b.receive(
                &DocId::Order(orders[0].clone()),
                doc(&source, &orders[0]),
                received(b"s0"),
            )?;
            b.receive(
                &DocId::Order(orders[1].clone()),
                doc(&source, &orders[1]),
                received(b"s1"),
            )?;
            b.receive(&DocId::Order("o-wrong".into()), wrong, received(b"s2"))
        })
        .unwrap_err();
    assert_eq!(err.code(), "document.unexpected_shape", "{err}");
    for o in &orders[..2] {
        assert!(
            !store.contains(&DocId::Order(o.clone())).unwrap()
                && store.order_row(o).unwrap().is_none(),
            "{o} was taken in the refused batch: not stored, no index row"
        );
        assert_eq!(
            store.sync_state(&DocId::Order(o.clone())).unwrap(),
            None,
            "nor its sync state"
        );
    }

    store
        .batch(|b| {
            for (n, o) in orders.iter().enumerate() {
                let state = format!("s{n}");
                b.receive(
                    &DocId::Order(o.clone()),
                    doc(&source, o),
                    received(state.as_bytes()),
                )?;
            }
            Ok(())
        })
        .unwrap();
    for (n, o) in orders.iter().enumerate() {
        let id = DocId::Order(o.clone());
        assert_eq!(
            store.read::<Order>(&id).unwrap(),
            source.read::<Order>(&id).unwrap(),
            "{o} is stored as sent"
        );
        assert!(
            store.order_row(o).unwrap().is_some(),
            "{o} has its index row"
        );
        assert_eq!(
            store.sync_state(&id).unwrap(),
            Some(format!("s{n}").into_bytes()),
            "{o}'s sync state is stored with it"
        );
    }
}

#[test]
fn a_visit_on_a_template_version_this_device_lacks_is_refused_and_nothing_written() {
    let (_dir, mut store) = seeded();
    let order_id = create_order(&mut store, 3, DAY, "t1"); // n % 3 == 0: a repair order
    store.start_visit(&order_id, "t1").unwrap();
    // Reference data changes: the library now only has repair@2 (the visit was started on @1).
    store
        .update(&DocId::Templates, |lib: &mut TemplateLibrary| {
            for t in lib.templates.iter_mut().filter(|t| t.id == "repair") {
                t.version = 2;
                t.key = "repair@2".into();
            }
            Ok(())
        })
        .unwrap();
    let vid = DocId::visit(&order_id, "t1");
    let before = store.doc_info(&vid).unwrap();
    let err = store
        .apply_visit_edit(
            &order_id,
            "t1",
            VisitEdit::Answer {
                template_id: "repair".into(),
                item_id: "repair.symptom".into(),
                outcome: Outcome::Done,
                note: String::new(),
            },
            DAY + HOUR,
        )
        .unwrap_err();
    assert_eq!(err.code(), "checklist.unknown_template", "{err}");
    assert_eq!(store.doc_info(&vid).unwrap(), before, "nothing written");

    // Starting a visit needs the service type's template at all.
    store
        .update(&DocId::Templates, |lib: &mut TemplateLibrary| {
            lib.templates.retain(|t| t.id != "installation");
            Ok(())
        })
        .unwrap();
    let o2 = create_order(&mut store, 4, DAY, "t1"); // n % 3 == 1: an installation order
    let err = store.start_visit(&o2, "t1").unwrap_err();
    assert_eq!(err.code(), "checklist.unknown_template");
    assert!(!store.contains(&DocId::visit(&o2, "t1")).unwrap());
}

#[test]
fn a_reading_in_the_wrong_unit_is_refused_and_nothing_written() {
    let (_dir, mut store) = seeded();
    let order_id = create_order(&mut store, 3, DAY, "t1"); // repair: supply voltage in V
    store.start_visit(&order_id, "t1").unwrap();
    let vid = DocId::visit(&order_id, "t1");
    let before = store.doc_info(&vid).unwrap();
    let rows_before = store.visits_of_order(&order_id).unwrap();
    let pending_before = store.pending_count().unwrap();
    let library: TemplateLibrary = store.read(&DocId::Templates).unwrap();
    let item = library
        .get("repair", 1)
        .unwrap()
        .items
        .iter()
        .find(|i| matches!(&i.kind, onsite_domain::reference::ItemKind::Reading { unit, .. } if unit == "V"))
        .expect("repair template has a voltage reading")
        .id
        .clone();
    let err = store
        .apply_visit_edit(
            &order_id,
            "t1",
            VisitEdit::Answer {
                template_id: "repair".into(),
                item_id: item.clone(),
                outcome: Outcome::Reading {
                    value: 0.22,
                    unit: "kV".into(),
                },
                note: String::new(),
            },
            DAY + HOUR,
        )
        .unwrap_err();
    assert_eq!(err.code(), "checklist.wrong_unit", "{err}");
    assert_eq!(
        store.doc_info(&vid).unwrap(),
        before,
        "no change in the document"
    );
    assert_eq!(
        store.visits_of_order(&order_id).unwrap(),
        rows_before,
        "no index change"
    );
    assert_eq!(
        store.pending_count().unwrap(),
        pending_before,
        "no pending change counted"
    );
    let visit: Visit = store.read(&vid).unwrap();
    assert!(visit.checklists["repair"].answers.is_empty());

    // The same answer in the right unit goes through.
    store
        .apply_visit_edit(
            &order_id,
            "t1",
            VisitEdit::Answer {
                template_id: "repair".into(),
                item_id: item,
                outcome: Outcome::Reading {
                    value: 221.0,
                    unit: "V".into(),
                },
                note: String::new(),
            },
            DAY + HOUR,
        )
        .unwrap();
    assert_eq!(
        store.doc_info(&vid).unwrap().history_len,
        before.history_len + 1
    );
}

#[test]
fn documents_and_databases_from_a_newer_app_are_refused() {
    let (dir, mut store) = seeded();
    let mut newer = Order::create(
        onsite_domain::seed::order(7, DAY),
        &onsite_domain::sla::SlaPolicy::default(),
        CREATED,
    )
    .unwrap();
    newer.schema = 99;
    newer.order_id = "o-new".into();
    let err = store
        .create(&DocId::Order("o-new".into()), &newer)
        .unwrap_err();
    assert_eq!(err.code(), "document.schema_too_new", "{err}");
    assert!(!store.contains(&DocId::Order("o-new".into())).unwrap());
    drop(store);

    raw(&dir).pragma_update(None, "user_version", 99).unwrap();
    let err = Store::open_in(dir.path()).err().expect("newer schema");
    assert_eq!(err.code(), "store.schema_too_new");
}

#[test]
fn a_damaged_attachment_is_reported_on_read_and_repaired_by_storing_it_again() {
    let (dir, mut store) = seeded();
    let png = image_bytes(3, 4_096);
    let sha = store.put_attachment(&png, "image/png").unwrap();
    raw(&dir)
        .execute(
            "UPDATE attachments SET bytes = ?2 WHERE sha256 = ?1",
            params![sha, b"scrambled".to_vec()],
        )
        .unwrap();
    assert_eq!(
        store.attachment(&sha).unwrap_err().code(),
        "attachment.corrupt"
    );
    assert_eq!(store.put_attachment(&png, "image/png").unwrap(), sha);
    assert_eq!(store.attachment(&sha).unwrap().bytes, png);
}

#[test]
fn creating_a_document_from_a_value_read_elsewhere_is_a_typed_error_not_a_crash() {
    let (_dir, mut store) = seeded();
    let order_id = create_order(&mut store, 1, DAY, "t1");
    let mut copy: Order = store.read(&DocId::Order(order_id)).unwrap();
    copy.order_id = "o-copy".into();
    let err = store
        .create(&DocId::Order("o-copy".into()), &copy)
        .unwrap_err();
    assert_eq!(err.code(), "document.write_failed", "{err}");
    assert!(!store.contains(&DocId::Order("o-copy".into())).unwrap());
}

#[test]
fn a_damaged_visit_never_blocks_the_order_or_its_other_visits() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open_in(dir.path()).expect("open");
    seed_reference(&mut store, &["t1", "t2"]);
    let order_id = create_order(&mut store, 1, DAY, "t1");
    let oid = DocId::Order(order_id.clone());
    store.start_visit(&order_id, "t1").expect("t1 starts");
    let t2 = onsite_domain::seed::technician("t2", "T2", "2", "C2", DAY - HOUR);
    store
        .update(&oid, |o: &mut Order| {
            o.assign("tr-2", &t2, "rebalanced", "dispatch", DAY)
        })
        .expect("reassign to t2");
    store.start_visit(&order_id, "t2").expect("t2 starts");
    drop(store);

    let key = DocId::visit(&order_id, "t1").to_string();
    let damaged = damage_snapshot(&dir, &key);

    let mut store = Store::open_in(dir.path()).expect("opens");
    store
        .update(&oid, |o: &mut Order| {
            o.problem = "no cooling, customer home after 14:00".into();
            Ok(())
        })
        .expect("the dispatcher can still edit the order");
    let v = store
        .apply_visit_edit(
            &order_id,
            "t2",
            VisitEdit::Answer {
                template_id: onsite_domain::templates::HAIER_12345.into(),
                item_id: "cert.shown".into(),
                outcome: Outcome::Done,
                note: String::new(),
            },
            DAY + HOUR,
        )
        .expect("the new assignee can still work on the order");
    assert!(
        v.checklists[onsite_domain::templates::HAIER_12345]
            .answers
            .contains_key("cert.shown"),
        "the edit is saved"
    );
    let visits: Vec<String> = store
        .visits_of_order(&order_id)
        .unwrap()
        .into_iter()
        .map(|r| r.technician_id)
        .collect();
    assert_eq!(
        visits,
        vec!["t2".to_string()],
        "the damaged visit is left out of the index"
    );
    assert!(
        store.order_row(&order_id).unwrap().is_some(),
        "the order stays listed"
    );
    assert_eq!(
        store
            .read::<Visit>(&DocId::visit(&order_id, "t1"))
            .unwrap_err()
            .code(),
        "document.corrupt",
        "the damaged visit still says so when read"
    );
    assert_eq!(store.rebuild_indexes().unwrap(), 1, "one document left out");
    assert_eq!(
        rows_of(&raw(&dir), &key),
        damaged,
        "the damaged rows are left exactly as found"
    );
}
