//! Round trips, every query, and index rows kept in step with the documents after local edits,
//! merges of concurrent remote changes, compaction and removal.

mod common;

use std::collections::BTreeMap;

use common::*;
use onsite_domain::edit::VisitEdit;
use onsite_domain::ledger::{self, EntryKind, StockLedger};
use onsite_domain::order::{DispatchStatus, Order};
use onsite_domain::progress::ProgressKind;
use onsite_domain::sla::{self, SlaBadge, SlaPolicy};
use onsite_domain::status::{self, EffectiveStatus};
use onsite_domain::visit::{StockSource, Visit};
use onsite_domain::{DocId, HOUR, MINUTE, record, seed};
use onsite_store::{COMPACT_AT, Store, StoreError, VisitVerification, sha256_hex};
use tempfile::TempDir;

fn fresh() -> (TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open_in(dir.path()).expect("open store");
    (dir, store)
}

fn seeded(technicians: &[&str]) -> (TempDir, Store) {
    let (dir, mut store) = fresh();
    seed_reference(&mut store, technicians);
    (dir, store)
}

fn progress(store: &mut Store, order: &str, tech: &str, kind: ProgressKind, at: i64) -> Visit {
    store
        .apply_visit_edit(
            order,
            tech,
            VisitEdit::Progress {
                id: format!("{order}-{kind:?}-{at}"),
                kind,
            },
            at,
        )
        .unwrap_or_else(|e| panic!("{kind:?} on {order} must be accepted: {e}"))
}

#[test]
fn documents_ids_and_actor_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("device.db");
    let (device, actor, order_id) = {
        let mut store = Store::open(&path, Some("tablet-7")).expect("open creates directories");
        seed_reference(&mut store, &["t1"]);
        let order_id = create_order(&mut store, 1, DAY, "t1");
        (
            store.device_id().to_owned(),
            store.actor_id().clone(),
            order_id,
        )
    };
    let store = Store::open(&path, None).expect("reopen");
    assert_eq!(store.device_id(), device, "the device id is kept");
    assert_eq!(store.device_id(), "tablet-7");
    assert_eq!(
        store.actor_id(),
        &actor,
        "the Automerge actor is kept across restarts"
    );
    let order: Order = store.read(&DocId::Order(order_id.clone())).unwrap();
    assert_eq!(order.order_id, order_id);
    assert_eq!(order.assignee.as_deref(), Some("t1"));
    let doc = store.load_doc(&DocId::Order(order_id)).unwrap();
    assert_eq!(
        doc.get_actor(),
        &actor,
        "loaded documents carry the store's actor"
    );
    let err = Store::open(&path, Some("tablet-8"))
        .err()
        .expect("another device id");
    assert_eq!(err.code(), "store.device_mismatch");
    store.integrity_check().expect("store is consistent");
    let raw = rusqlite::Connection::open(&path).unwrap();
    let mode: String = raw
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal", "the store runs in WAL mode");
}

#[test]
fn create_refuses_duplicates_and_read_reports_missing_documents() {
    let (_dir, mut store) = seeded(&["t1"]);
    let err = store
        .create(
            &DocId::Templates,
            &onsite_domain::templates::builtin_library(),
        )
        .unwrap_err();
    assert_eq!(err.code(), "document.already_exists");
    let err = store
        .read::<Order>(&DocId::Order("nope".into()))
        .unwrap_err();
    assert_eq!(err.code(), "document.not_found");
    assert!(store.contains(&DocId::Templates).unwrap());
    assert!(!store.contains(&DocId::Order("nope".into())).unwrap());
}

#[test]
fn update_commits_one_change_and_a_refused_update_writes_nothing() {
    let (_dir, mut store) = seeded(&["t1"]);
    let id = DocId::Order(create_order(&mut store, 2, DAY, "t1"));
    let before = store.doc_info(&id).unwrap();
    let updated: Order = store
        .update(&id, |o: &mut Order| {
            o.set_status(
                DispatchStatus::OnHold,
                "customer travelling",
                CREATED + HOUR,
            )
        })
        .unwrap();
    assert_eq!(updated.status, DispatchStatus::OnHold);
    let after = store.doc_info(&id).unwrap();
    assert_eq!(
        after.history_len,
        before.history_len + 1,
        "one change per update"
    );
    assert_eq!(after.local_changes, before.local_changes + 1);
    assert_eq!(
        store
            .order_row(id_str(&id))
            .unwrap()
            .unwrap()
            .effective_status,
        EffectiveStatus::OnHold,
        "the index row follows the update in the same transaction"
    );

    let err = store
        .update(&id, |o: &mut Order| {
            o.set_status(DispatchStatus::Cancelled, "  ", CREATED + 2 * HOUR)
        })
        .unwrap_err();
    assert_eq!(err.code(), "input.empty");
    assert_eq!(
        store.doc_info(&id).unwrap(),
        after,
        "a refused update writes nothing"
    );
    let unchanged: Order = store.update(&id, |_o: &mut Order| Ok(())).unwrap();
    assert_eq!(unchanged.status, DispatchStatus::OnHold);
    assert_eq!(
        store.doc_info(&id).unwrap(),
        after,
        "an update that changes nothing writes no change"
    );
}

fn id_str(id: &DocId) -> &str {
    match id {
        DocId::Order(o) => o,
        _ => panic!("order id expected"),
    }
}

#[test]
fn visit_edits_keep_order_and_visit_rows_in_step_through_signing() {
    let (dir, mut store) = seeded(&["t1"]);
    let order_id = create_order(&mut store, 1, DAY, "t1");
    assert_eq!(
        store
            .order_row(&order_id)
            .unwrap()
            .unwrap()
            .effective_status,
        EffectiveStatus::Assigned
    );
    let err = store.start_visit(&order_id, "t2").unwrap_err();
    assert_eq!(
        err.code(),
        "order.not_assignee",
        "only the assignee starts a visit"
    );
    let started = store.start_visit(&order_id, "t1").unwrap();
    assert_eq!(
        store.start_visit(&order_id, "t1").unwrap(),
        started,
        "starting again returns the same visit"
    );
    let photo = store
        .put_attachment(&image_bytes(1, 2_000), "image/jpeg")
        .unwrap();
    let done_at = work_to_done(&mut store, &order_id, "t1", &photo, DAY + 10 * HOUR);
    let row = store.order_row(&order_id).unwrap().unwrap();
    assert_eq!(row.effective_status, EffectiveStatus::WorkDone);
    let signature = image_bytes(2, 6_000);
    let signed = sign(&mut store, &order_id, "t1", &signature, done_at + MINUTE);
    let sig = signed.signature.clone().expect("signed");
    let other = Store::open_in(dir.path()).expect("a second connection");
    assert_eq!(
        other.read::<Visit>(&DocId::visit(&order_id, "t1")).unwrap(),
        signed,
        "the visit returned by the edit is exactly what was committed"
    );

    let row = store.order_row(&order_id).unwrap().unwrap();
    assert_eq!(row.effective_status, EffectiveStatus::Completed);
    assert!(row.conflicts.is_empty());
    let visits = store.visits_of_order(&order_id).unwrap();
    assert_eq!(visits.len(), 1);
    assert_eq!(visits[0].stage, Some(ProgressKind::Signed));
    assert_eq!(visits[0].signed_at_ms, Some(sig.signed_at_ms));
    assert_eq!(
        visits[0].record_hash.as_deref(),
        Some(sig.record_hash.as_str())
    );
    assert_eq!(visits[0].verification, VisitVerification::Valid);
    assert_eq!(
        store.attachment(&sig.image_sha256).unwrap().bytes,
        signature
    );

    // The dispatcher edits a signed field of the order afterwards: the visit row must now say
    // the record was modified after signing, and the order row must list the conflict.
    store
        .update(&DocId::Order(order_id.clone()), |o: &mut Order| {
            o.customer.address = "另一个地址 / another address".into();
            Ok(())
        })
        .unwrap();
    let visits = store.visits_of_order(&order_id).unwrap();
    assert_eq!(
        visits[0].verification,
        VisitVerification::ModifiedAfterSigning {
            sections: vec!["order".into()]
        }
    );
    let row = store.order_row(&order_id).unwrap().unwrap();
    let order: Order = store.read(&DocId::Order(order_id.clone())).unwrap();
    let visit: Visit = store.read(&DocId::visit(&order_id, "t1")).unwrap();
    assert_eq!(
        row.conflicts,
        status::derive(&order, [&visit]).conflicts,
        "conflicts come from status::derive"
    );
    assert!(!record::verify(&order, &visit).is_valid());
}

#[test]
fn today_lists_the_technicians_day_by_schedule_then_sla_with_domain_badges() {
    let (_dir, mut store) = seeded(&["t1", "t2"]);
    // Orders 1..=8 on DAY: slots 9h, 11h, 13h, 15h by n % 4; tiers vary by n % 4 too.
    for n in 1..=8 {
        create_order(&mut store, n, DAY, "t1");
    }
    create_order(&mut store, 9, DAY, "t2");
    create_order(&mut store, 10, DAY + 24 * HOUR, "t1");
    store.start_visit("o-00005", "t1").unwrap();
    progress(
        &mut store,
        "o-00005",
        "t1",
        ProgressKind::Arrived,
        DAY + 9 * HOUR + 10 * MINUTE,
    );

    let now = DAY + 9 * HOUR + 30 * MINUTE;
    let rows = store.today("t1", DAY, DAY + 24 * HOUR, now).unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r.order.order_id.as_str()).collect();
    assert_eq!(rows.len(), 8, "only t1's orders of that day: {ids:?}");
    for pair in rows.windows(2) {
        let (a, b) = (&pair[0].order, &pair[1].order);
        let ka = (a.schedule.unwrap().start_ms, a.sla.complete_by_ms);
        let kb = (b.schedule.unwrap().start_ms, b.sla.complete_by_ms);
        assert!(ka <= kb, "ordered by schedule then SLA deadline: {ids:?}");
    }
    let policy = SlaPolicy::default();
    for row in &rows {
        let order: Order = store
            .read(&DocId::Order(row.order.order_id.clone()))
            .unwrap();
        let visit: Option<Visit> = store.read(&DocId::visit(&row.order.order_id, "t1")).ok();
        let events: Vec<_> = visit.iter().flat_map(|v| v.events.iter()).collect();
        let expected = sla::evaluate(order.created_at_ms, &order.sla, events, &policy, now);
        assert_eq!(
            row.sla, expected,
            "the SLA report must be sla::evaluate's for {}",
            order.order_id
        );
        let expected_status = status::derive(&order, visit.iter()).status;
        assert_eq!(row.order.effective_status, expected_status);
    }
    let on_site = rows.iter().find(|r| r.order.order_id == "o-00005").unwrap();
    assert_eq!(on_site.stage, Some(ProgressKind::Arrived));
    assert_eq!(on_site.order.effective_status, EffectiveStatus::OnSite);
    assert!(
        rows.iter().any(|r| r.sla.badge == SlaBadge::Breached),
        "platinum orders created at 06:00 without a response by 09:30 are breached"
    );
    let later = store
        .today("t1", DAY + 48 * HOUR, DAY + 72 * HOUR, now)
        .unwrap();
    assert_eq!(
        later.len(),
        9,
        "on a later day t1's unfinished orders are carried over (8 of DAY, 1 of DAY + 1)"
    );
}

#[test]
fn today_carries_over_open_orders_and_lists_unscheduled_ones_last() {
    let (_dir, mut store) = seeded(&["t1", "t2"]);
    let today = DAY + 72 * HOUR;
    for n in 1..=3 {
        create_order(&mut store, n, DAY, "t1");
    }
    create_order(&mut store, 4, DAY, "t2");
    store
        .update(&DocId::Order("o-00002".into()), |o: &mut Order| {
            o.set_status(
                DispatchStatus::Cancelled,
                "customer cancelled",
                CREATED + HOUR,
            )
        })
        .unwrap();
    let profile = seed::technician("t1", "T", "1", "C", DAY - HOUR);
    let mut unscheduled = seed::order(5, DAY);
    unscheduled.schedule = None;
    let mut order = Order::create(unscheduled, &SlaPolicy::default(), CREATED).unwrap();
    order
        .assign("tr-5", &profile, "", "dispatch", CREATED)
        .unwrap();
    store
        .create(&DocId::Order(order.order_id.clone()), &order)
        .unwrap();
    create_order(&mut store, 6, today, "t1");
    create_order(&mut store, 7, today + 5 * 24 * HOUR, "t1");

    let rows = store
        .today("t1", today, today + 24 * HOUR, today + 9 * HOUR)
        .unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r.order.order_id.as_str()).collect();
    assert_eq!(
        ids,
        vec!["o-00001", "o-00003", "o-00006", "o-00005"],
        "open orders of earlier days first (by schedule), then today's, then the unscheduled \
         one; not the cancelled one, not t2's, not next week's"
    );
}

#[test]
fn orders_by_status_search_and_household_history() {
    let (_dir, mut store) = seeded(&["t1"]);
    for n in 1..=8 {
        create_order(&mut store, n, DAY, "t1");
    }
    store
        .update(&DocId::Order("o-00003".into()), |o: &mut Order| {
            o.set_status(
                DispatchStatus::Cancelled,
                "customer cancelled",
                CREATED + HOUR,
            )
        })
        .unwrap();
    let cancelled = store.orders_by_status(EffectiveStatus::Cancelled).unwrap();
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0].order_id, "o-00003");
    assert_eq!(
        store
            .orders_by_status(EffectiveStatus::Assigned)
            .unwrap()
            .len(),
        7
    );

    // seed::order gives 4 households (n % 4); orders 1 and 5 are 李娜's.
    let hits = store.search_customers("李娜", 10).unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].household_id, "hh-2");
    assert_eq!(hits[0].orders, 2);
    assert_eq!(
        store.search_customers("13800000003", 10).unwrap()[0].name,
        "王芳",
        "search by phone"
    );
    assert_eq!(
        store.search_customers("南京西路", 10).unwrap()[0].name,
        "王芳",
        "search by address"
    );
    assert!(
        store.search_customers("%", 10).unwrap().is_empty(),
        "% is matched literally, not as a wildcard"
    );
    assert!(
        store.search_customers("_", 10).unwrap().is_empty(),
        "_ is matched literally"
    );
    assert!(store.search_customers("  ", 10).unwrap().is_empty());
    assert_eq!(
        store.search_customers("上海市", 2).unwrap().len(),
        2,
        "limit"
    );

    let history = store.household_history("hh-2").unwrap();
    let ids: Vec<&str> = history.iter().map(|h| h.order.order_id.as_str()).collect();
    assert_eq!(ids, ["o-00005", "o-00001"], "newest first");
    store.start_visit("o-00005", "t1").unwrap();
    let history = store.household_history("hh-2").unwrap();
    assert_eq!(history[0].visits.len(), 1);
    assert_eq!(history[0].visits[0].technician_id, "t1");
    assert!(store.household_history("hh-none").unwrap().is_empty());
}

#[test]
fn stock_levels_equal_the_domain_rule() {
    let (_dir, mut store) = seeded(&["t1", "t2"]);
    let ledger_id = DocId::Ledger("t1".into());
    store
        .update(&ledger_id, |l: &mut StockLedger| {
            l.record("e1", "AC-CAP-35UF", EntryKind::Issued, 5, "d", "", CREATED)?;
            l.record(
                "e2",
                "GEN-FUSE-10A",
                EntryKind::Issued,
                10,
                "d",
                "",
                CREATED,
            )?;
            l.record(
                "e3",
                "GEN-FUSE-10A",
                EntryKind::Returned,
                3,
                "d",
                "",
                CREATED,
            )?;
            l.record(
                "e4",
                "WH-ANODE",
                EntryKind::Adjusted,
                -1,
                "d",
                "count",
                CREATED,
            )
        })
        .unwrap();
    for n in 1..=3 {
        let o = create_order(&mut store, n, DAY, "t1");
        store.start_visit(&o, "t1").unwrap();
        for (i, (part, source)) in [
            ("AC-CAP-35UF", StockSource::Personal),
            ("GEN-FUSE-10A", StockSource::Personal),
            ("AC-FAN-MOTOR", StockSource::Warehouse),
        ]
        .into_iter()
        .enumerate()
        {
            store
                .apply_visit_edit(
                    &o,
                    "t1",
                    VisitEdit::AddPart {
                        id: format!("p{i}"),
                        part_no: part.into(),
                        qty: n as i64,
                        faulty_serial: String::new(),
                        replacement_serial: "SN-NEW".into(),
                        source,
                    },
                    DAY + HOUR,
                )
                .unwrap();
        }
    }
    store
        .apply_visit_edit(
            "o-00002",
            "t1",
            VisitEdit::RemovePart { id: "p0".into() },
            DAY + 2 * HOUR,
        )
        .unwrap();
    let o = create_order(&mut store, 4, DAY, "t2");
    store.start_visit(&o, "t2").unwrap();
    store
        .apply_visit_edit(
            &o,
            "t2",
            VisitEdit::AddPart {
                id: "x".into(),
                part_no: "AC-CAP-35UF".into(),
                qty: 7,
                faulty_serial: String::new(),
                replacement_serial: String::new(),
                source: StockSource::Personal,
            },
            DAY + HOUR,
        )
        .unwrap();

    let ledger: StockLedger = store.read(&ledger_id).unwrap();
    let visits: Vec<Visit> = (1..=3)
        .map(|n| {
            store
                .read(&DocId::visit(&format!("o-{n:05}"), "t1"))
                .unwrap()
        })
        .collect();
    let expected = ledger::stock_levels(&ledger, &visits);
    assert_eq!(store.stock_levels("t1").unwrap(), expected);
    assert_eq!(
        expected["AC-CAP-35UF"],
        5 - 1 - 3,
        "order 2's capacitor was removed"
    );
    assert_eq!(
        store.stock_levels("t2").unwrap(),
        BTreeMap::from([("AC-CAP-35UF".to_owned(), -7)]),
        "t2 has no ledger entries, only parts used"
    );
}

/// Copy document `id` from `from` to `to` the way sync would: as Automerge bytes.
fn ship(from: &Store, to: &mut Store, id: &DocId) -> bool {
    let mut doc = from.load_doc(id).unwrap();
    to.merge_remote(id, &doc.save()).unwrap()
}

#[test]
fn merging_a_concurrent_remote_change_refreshes_the_indexes() {
    let (_d1, mut dispatch) = seeded(&["t1"]);
    let (_d2, mut device) = fresh();
    let order_id = create_order(&mut dispatch, 1, DAY, "t1");
    let oid = DocId::Order(order_id.clone());
    for id in [
        DocId::Templates,
        DocId::FeeSchedule,
        DocId::PartsCatalogue,
        DocId::Profile("t1".into()),
        DocId::Ledger("t1".into()),
        oid.clone(),
    ] {
        assert!(
            ship(&dispatch, &mut device, &id),
            "{id} is new on the device"
        );
        assert!(
            !ship(&dispatch, &mut device, &id),
            "{id} merged twice adds nothing"
        );
    }
    assert_eq!(
        device.pending_count().unwrap(),
        0,
        "merged remote documents are not local changes"
    );
    assert_eq!(
        device
            .order_row(&order_id)
            .unwrap()
            .unwrap()
            .effective_status,
        EffectiveStatus::Assigned,
        "a merged document gets its index rows"
    );

    // Offline on both sides: the technician arrives, the dispatcher cancels.
    device.start_visit(&order_id, "t1").unwrap();
    progress(
        &mut device,
        &order_id,
        "t1",
        ProgressKind::Arrived,
        DAY + 9 * HOUR,
    );
    dispatch
        .update(&oid, |o: &mut Order| {
            o.set_status(DispatchStatus::Cancelled, "duplicate order", DAY + 9 * HOUR)
        })
        .unwrap();

    let mut remote = dispatch.load_doc(&oid).unwrap();
    let changes = remote.save_after(&device.doc_info(&oid).unwrap().heads);
    assert!(device.merge_remote(&oid, &changes).unwrap());
    let row = device.order_row(&order_id).unwrap().unwrap();
    assert_eq!(row.dispatch_status, DispatchStatus::Cancelled);
    assert_eq!(row.effective_status, EffectiveStatus::Cancelled);
    assert_eq!(
        row.conflicts.iter().map(|c| c.code()).collect::<Vec<_>>(),
        ["stopped_while_on_site"],
        "the contradiction is listed, not resolved silently"
    );

    // The dispatcher receives the visit: same rows on both sides.
    let vid = DocId::visit(&order_id, "t1");
    assert!(ship(&device, &mut dispatch, &vid));
    assert_eq!(
        dispatch.order_row(&order_id).unwrap(),
        device.order_row(&order_id).unwrap()
    );
    assert_eq!(
        dispatch.visits_of_order(&order_id).unwrap(),
        device.visits_of_order(&order_id).unwrap()
    );
}

#[test]
fn pending_changes_are_counted_until_marked_synced() {
    let (_dir, mut store) = seeded(&["t1"]);
    let order_id = create_order(&mut store, 1, DAY, "t1");
    let pending = store.pending_docs().unwrap();
    assert_eq!(pending.len(), 6, "3 reference docs, profile, ledger, order");
    assert_eq!(store.pending_count().unwrap(), 6);
    for id in &pending {
        let heads = store.doc_info(id).unwrap().heads;
        assert_eq!(store.mark_synced(id, &heads).unwrap(), 0);
    }
    assert!(store.pending_docs().unwrap().is_empty());

    store.start_visit(&order_id, "t1").unwrap();
    let vid = DocId::visit(&order_id, "t1");
    let synced_heads = store.doc_info(&vid).unwrap().heads;
    progress(
        &mut store,
        &order_id,
        "t1",
        ProgressKind::EnRoute,
        DAY + HOUR,
    );
    progress(
        &mut store,
        &order_id,
        "t1",
        ProgressKind::Arrived,
        DAY + 2 * HOUR,
    );
    assert_eq!(store.pending_docs().unwrap(), std::slice::from_ref(&vid));
    assert_eq!(store.doc_info(&vid).unwrap().local_changes, 3);
    assert_eq!(
        store.mark_synced(&vid, &synced_heads).unwrap(),
        2,
        "changes after the synced heads stay pending"
    );
    let err = store.remove_doc(&vid).unwrap_err();
    assert_eq!(err.code(), "document.unsynced_changes");
    assert!(
        store.contains(&vid).unwrap(),
        "unsynced work is never dropped"
    );
    let heads = store.doc_info(&vid).unwrap().heads;
    assert_eq!(store.mark_synced(&vid, &heads).unwrap(), 0);
    assert_eq!(store.pending_count().unwrap(), 0);
}

#[test]
fn save_doc_merges_a_synced_copy_without_losing_local_edits() {
    let (_d1, mut device) = seeded(&["t1"]);
    let (_d2, mut dispatch) = fresh();
    let order_id = create_order(&mut device, 1, DAY, "t1");
    let oid = DocId::Order(order_id.clone());
    ship(&device, &mut dispatch, &oid);

    // The sync client takes a copy; meanwhile the device edits the order locally.
    let mut copy = device.load_doc(&oid).unwrap();
    device
        .update(&oid, |o: &mut Order| {
            o.problem = "also noisy / 也有噪音".into();
            Ok(())
        })
        .unwrap();
    // The copy receives the dispatcher's change.
    dispatch
        .update(&oid, |o: &mut Order| {
            o.set_status(DispatchStatus::OnHold, "parts on order", DAY)
        })
        .unwrap();
    let mut theirs = dispatch.load_doc(&oid).unwrap();
    copy.merge(&mut theirs).unwrap();
    assert!(device.save_doc(&oid, &mut copy).unwrap());
    let order: Order = device.read(&oid).unwrap();
    assert_eq!(order.problem, "also noisy / 也有噪音", "local edit kept");
    assert_eq!(order.status, DispatchStatus::OnHold, "remote edit merged");
    assert_eq!(
        device
            .order_row(&order_id)
            .unwrap()
            .unwrap()
            .effective_status,
        EffectiveStatus::OnHold
    );
    assert!(!device.save_doc(&oid, &mut copy).unwrap(), "nothing new");
}

#[test]
fn sync_state_and_key_values_round_trip_durably() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = Store::open_in(dir.path()).unwrap();
        let id = DocId::Order("o-1".into());
        assert_eq!(store.sync_state(&id).unwrap(), None);
        store.set_sync_state(&id, b"state-1").unwrap();
        store.set_sync_state(&id, b"state-2").unwrap();
        store.kv_set("sync.cursor", b"42").unwrap();
        store.kv_set("auth.token", b"t").unwrap();
        store.kv_delete("auth.token").unwrap();
        store.kv_set("sync.snapshot", b"7/4/order:o-9").unwrap();
        store
            .kv_write(&[
                ("sync.snapshot", None),
                ("sync.epoch", Some(b"e-2")),
                ("sync.cursor", Some(b"43")),
            ])
            .unwrap();
    }
    let store = Store::open_in(dir.path()).unwrap();
    assert_eq!(
        (
            store.kv_get("sync.snapshot").unwrap(),
            store.kv_get("sync.epoch").unwrap()
        ),
        (None, Some(b"e-2".to_vec())),
        "several keys written in one go are removed and set as asked, durably"
    );
    assert_eq!(
        store.sync_state(&DocId::Order("o-1".into())).unwrap(),
        Some(b"state-2".to_vec())
    );
    assert_eq!(store.kv_get("sync.cursor").unwrap(), Some(b"43".to_vec()));
    assert_eq!(store.kv_get("auth.token").unwrap(), None);
}

#[test]
fn removing_a_synced_document_drops_its_rows() {
    let (_dir, mut store) = seeded(&["t1"]);
    let order_id = create_order(&mut store, 1, DAY, "t1");
    store.start_visit(&order_id, "t1").unwrap();
    let oid = DocId::Order(order_id.clone());
    let vid = DocId::visit(&order_id, "t1");
    for id in [&oid, &vid] {
        let heads = store.doc_info(id).unwrap().heads;
        store.mark_synced(id, &heads).unwrap();
    }
    store.set_sync_state(&vid, b"s").unwrap();
    store.remove_doc(&vid).unwrap();
    assert!(store.visits_of_order(&order_id).unwrap().is_empty());
    assert_eq!(store.sync_state(&vid).unwrap(), None);
    assert_eq!(
        store.read::<Visit>(&vid).unwrap_err().code(),
        "document.not_found"
    );
    store.remove_doc(&oid).unwrap();
    assert_eq!(store.order_row(&order_id).unwrap(), None);
    assert!(!store.list_doc_ids().unwrap().contains(&oid));
    assert_eq!(
        store.remove_doc(&oid).unwrap_err().code(),
        "document.not_found"
    );
}

#[test]
fn the_change_log_is_compacted_and_reloads_identically() {
    let dir = tempfile::tempdir().unwrap();
    let id = DocId::Ledger("t1".into());
    let expected = {
        let mut store = Store::open_in(dir.path()).unwrap();
        seed_reference(&mut store, &["t1"]);
        let mut max_rows = 0;
        for n in 0..(COMPACT_AT * 2 + 5) {
            store
                .update(&id, |l: &mut StockLedger| {
                    l.record(
                        &format!("e{n}"),
                        "WH-ANODE",
                        EntryKind::Issued,
                        1,
                        "d",
                        "",
                        n,
                    )
                })
                .unwrap();
            max_rows = max_rows.max(store.doc_info(&id).unwrap().change_rows);
        }
        assert!(
            max_rows < COMPACT_AT,
            "the change log never reaches {COMPACT_AT} rows (max {max_rows})"
        );
        assert_eq!(store.doc_info(&id).unwrap().change_rows, 5);
        store.read::<StockLedger>(&id).unwrap()
    };
    let store = Store::open_in(dir.path()).unwrap();
    let ledger: StockLedger = store.read(&id).unwrap();
    assert_eq!(ledger, expected);
    assert_eq!(ledger.entries.len() as i64, COMPACT_AT * 2 + 5);
    assert_eq!(
        store.stock_levels("t1").unwrap()["WH-ANODE"],
        COMPACT_AT * 2 + 5
    );
    assert_eq!(
        store.doc_info(&id).unwrap().local_changes,
        COMPACT_AT * 2 + 6
    );
}

#[test]
fn attachments_are_content_addressed_and_checked() {
    let (_dir, mut store) = fresh();
    let png = image_bytes(7, 5_000);
    let sha = store.put_attachment(&png, "image/png").unwrap();
    assert_eq!(sha, sha256_hex(&png));
    assert_eq!(
        store.put_attachment(&png, "image/png").unwrap(),
        sha,
        "idempotent"
    );
    let a = store.attachment(&sha).unwrap();
    assert_eq!((a.mime.as_str(), a.bytes), ("image/png", png));
    assert!(store.has_attachment(&sha).unwrap());
    assert_eq!(
        store.pending_attachments().unwrap(),
        std::slice::from_ref(&sha)
    );
    store.mark_attachment_synced(&sha).unwrap();
    assert!(store.pending_attachments().unwrap().is_empty());

    let too_big = vec![0u8; onsite_domain::MAX_ATTACHMENT_BYTES + 1];
    let err = store.put_attachment(&too_big, "image/jpeg").unwrap_err();
    assert!(matches!(err, StoreError::AttachmentTooLarge { .. }));
    assert_eq!(err.code(), "attachment.too_large");
    assert_eq!(
        store.put_attachment(b"x", " ").unwrap_err().code(),
        "attachment.mime_missing"
    );
    let missing = sha256_hex(b"never stored");
    assert_eq!(
        store.attachment(&missing).unwrap_err().code(),
        "attachment.not_found"
    );
    assert_eq!(
        store.attachment("../etc/passwd").unwrap_err().code(),
        "attachment.bad_ref"
    );
}

#[test]
fn rebuilding_the_indexes_reproduces_the_same_rows() {
    let (_dir, mut store) = seeded(&["t1"]);
    for n in 1..=4 {
        create_order(&mut store, n, DAY, "t1");
    }
    store.start_visit("o-00002", "t1").unwrap();
    progress(
        &mut store,
        "o-00002",
        "t1",
        ProgressKind::Arrived,
        DAY + 9 * HOUR,
    );
    let now = DAY + 10 * HOUR;
    let before = store.today("t1", DAY, DAY + 24 * HOUR, now).unwrap();
    let history = store.household_history("hh-3").unwrap();
    store.rebuild_indexes().unwrap();
    assert_eq!(
        store.today("t1", DAY, DAY + 24 * HOUR, now).unwrap(),
        before
    );
    assert_eq!(store.household_history("hh-3").unwrap(), history);
}

/// `doc` taken as a sync answer's document (no heads known shared yet); whether it was news.
fn receive(store: &mut Store, id: &DocId, doc: impl Into<onsite_store::Incoming>) -> bool {
    let received = onsite_store::Received {
        sync_state: &[],
        shared_heads: &[],
        refused: false,
    };
    store.batch(|b| b.receive(id, doc, received)).unwrap()
}

#[test]
fn a_new_document_saved_ahead_is_stored_as_it_reads_and_a_held_one_is_still_merged() {
    let (_d1, mut dispatch) = seeded(&["t1"]);
    let (dir, mut device) = fresh();
    let order_id = create_order(&mut dispatch, 1, DAY, "t1");
    let oid = DocId::Order(order_id.clone());

    // New to the device: hydrated and saved off the store's thread, then taken in.
    let ahead = onsite_store::Incoming::hydrated_new(&oid, dispatch.load_doc(&oid).unwrap());
    assert!(receive(&mut device, &oid, ahead), "a new document is news");
    device
        .update(&oid, |o: &mut Order| {
            o.problem = "edited on the device".into();
            Ok(())
        })
        .unwrap();
    drop(device);
    let mut device = Store::open_in(dir.path()).unwrap();
    let stored: Order = device.read(&oid).unwrap();
    assert_eq!(
        (stored.order_id.as_str(), stored.problem.as_str()),
        (order_id.as_str(), "edited on the device"),
        "the row saved ahead, and the edit after it, read back from disk"
    );

    // Saved ahead again, but the device now holds the order: merged, the saved form unused.
    dispatch
        .update(&oid, |o: &mut Order| {
            o.set_status(DispatchStatus::OnHold, "parts on order", DAY)
        })
        .unwrap();
    let again = onsite_store::Incoming::hydrated_new(&oid, dispatch.load_doc(&oid).unwrap());
    assert!(
        receive(&mut device, &oid, again),
        "the dispatcher's change is news"
    );
    drop(device);
    let order: Order = Store::open_in(dir.path()).unwrap().read(&oid).unwrap();
    assert_eq!(
        (order.problem.as_str(), order.status),
        ("edited on the device", DispatchStatus::OnHold),
        "the local edit is kept and the remote one merged, on disk"
    );
}

#[test]
fn a_received_document_is_taken_whole_when_new_and_merged_when_held() {
    let (_d1, mut dispatch) = seeded(&["t1"]);
    let (_d2, mut device) = fresh();
    let order_id = create_order(&mut dispatch, 1, DAY, "t1");
    let oid = DocId::Order(order_id.clone());

    // First arrival: the received copy (the dispatcher's actor) is stored as it is.
    let received = dispatch.load_doc(&oid).unwrap();
    assert!(
        receive(&mut device, &oid, received),
        "a new document is news"
    );
    let info = device.doc_info(&oid).unwrap();
    assert_eq!(
        info.local_changes, 0,
        "nothing of a received document is this device's own work"
    );
    assert!(
        device.order_row(&order_id).unwrap().is_some(),
        "an adopted order is indexed like a merged one"
    );
    // The device's own edit afterwards is made with the store's actor, so it counts as local.
    device
        .update(&oid, |o: &mut Order| {
            o.problem = "adopted, then edited".into();
            Ok(())
        })
        .unwrap();
    assert_eq!(
        device.doc_info(&oid).unwrap().local_changes,
        1,
        "an edit after adopting is the device's own change, to upload"
    );

    // A later arrival merges: the local edit survives the dispatcher's change.
    dispatch
        .update(&oid, |o: &mut Order| {
            o.set_status(DispatchStatus::OnHold, "parts on order", DAY)
        })
        .unwrap();
    let later = dispatch.load_doc(&oid).unwrap();
    assert!(
        receive(&mut device, &oid, later),
        "the dispatcher's change is news"
    );
    let order: Order = device.read(&oid).unwrap();
    assert_eq!(
        order.problem, "adopted, then edited",
        "the local edit is kept"
    );
    assert_eq!(
        order.status,
        DispatchStatus::OnHold,
        "the remote edit is merged"
    );
}

#[test]
fn documents_received_new_are_indexed_as_a_rebuild_indexes_them() {
    let (_d1, mut dispatch) = seeded(&["t1"]);
    let first = create_order(&mut dispatch, 1, DAY, "t1");
    let second = create_order(&mut dispatch, 2, DAY, "t1");
    dispatch.start_visit(&first, "t1").unwrap();
    progress(
        &mut dispatch,
        &first,
        "t1",
        ProgressKind::Arrived,
        DAY + 9 * HOUR,
    );
    let household = seed::household(0, DAY);
    let hid = DocId::Household(household.household_id.clone());
    dispatch.create(&hid, &household).unwrap();

    // New to the device, each written without first deleting rows it could not have had — the
    // visit before its order (whose rows must then be rewritten with the order), an order with
    // no visit, a household.
    let (_d2, mut device) = fresh();
    let visit = DocId::Visit {
        order_id: first.clone(),
        technician_id: "t1".into(),
    };
    let orders = [DocId::Order(first.clone()), DocId::Order(second.clone())];
    for id in [&visit, &orders[0], &orders[1], &hid] {
        assert!(
            receive(&mut device, id, dispatch.load_doc(id).unwrap()),
            "{id} is new to the device"
        );
    }
    let now = DAY + 10 * HOUR;
    let rows = |s: &Store| {
        (
            s.today("t1", DAY, DAY + 24 * HOUR, now).unwrap(),
            s.visits_of_order(&first).unwrap(),
            s.order_row(&second).unwrap(),
            s.search_households("138", 10).unwrap(),
        )
    };
    let received = rows(&device);
    assert_eq!(
        (received.0.len(), received.1.len(), received.3.len()),
        (2, 1, 1),
        "both orders, the visit and the household are indexed: {received:?}"
    );
    device.rebuild_indexes().unwrap();
    assert_eq!(
        rows(&device),
        received,
        "the rows written as the documents arrived are those a rebuild writes"
    );
}
