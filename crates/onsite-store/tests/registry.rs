//! The customer registry on the device: households indexed in the same transaction as their
//! document, the offline search by phone (any spelling, partial), name or address, the external
//! references of imported orders, and writing several documents in one transaction.

mod common;

use common::*;
use onsite_domain::household::{Contact, Household};
use onsite_domain::order::{Order, Tier};
use onsite_domain::sla::SlaPolicy;
use onsite_domain::{DocId, seed};
use onsite_store::{Store, StoreError};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open_in(dir.path()).expect("open store");
    (dir, store)
}

fn put_seed_households(store: &mut Store) {
    for h in 0..seed::HOUSEHOLDS {
        let household = seed::household(h, DAY);
        store
            .create(
                &DocId::Household(household.household_id.clone()),
                &household,
            )
            .expect("create household");
    }
}

fn found(store: &Store, query: &str) -> Vec<String> {
    store
        .search_households(query, 10)
        .expect("search")
        .into_iter()
        .map(|r| r.household_id)
        .collect()
}

#[test]
fn households_are_found_by_phone_in_any_spelling_name_or_address() {
    let (_dir, mut store) = store();
    put_seed_households(&mut store);
    assert_eq!(found(&store, "13800000003"), ["hh-3"], "the whole number");
    assert_eq!(
        found(&store, "+86 138-0000-0003"),
        ["hh-3"],
        "another spelling"
    );
    assert_eq!(found(&store, "0000004"), ["hh-4"], "a part of the number");
    assert_eq!(
        found(&store, "138 0000 000"),
        ["hh-4", "hh-1", "hh-2", "hh-3"],
        "a prefix of every number: the same rank, then by name"
    );
    assert_eq!(found(&store, "李娜"), ["hh-2"], "by name");
    assert_eq!(found(&store, "漕溪北路"), ["hh-2"], "by address");
    assert!(found(&store, "").is_empty(), "an empty query finds nothing");
    assert!(found(&store, "%").is_empty(), "wildcards are literal");
    let row = store.household_row("hh-1").expect("row").expect("present");
    assert_eq!(row.phones, ["13800000001"]);
    assert_eq!(row.tier, Tier::Gold);
    assert_eq!(row.appliances, 2);
    assert_eq!(row.orders, 0, "no orders on this device yet");
}

#[test]
fn a_whole_number_ranks_before_a_partial_match_and_names_before_addresses() {
    let (_dir, mut store) = store();
    let add = |store: &mut Store, id: &str, name: &str, phone: &str, address: &str| {
        let contact = Contact {
            name: name.into(),
            phones: vec![phone.into()],
            address: address.into(),
            tier: Tier::Standard,
            notes: String::new(),
            preferences: Vec::new(),
        };
        let h = Household::create(id, contact, Vec::new(), DAY).expect("valid");
        store
            .create(&DocId::Household(id.into()), &h)
            .expect("create");
    };
    add(
        &mut store,
        "hh-a",
        "陈杰",
        "13912345678",
        "上海市王家路 1 号",
    );
    add(&mut store, "hh-b", "王家", "13912345679", "北京");
    add(&mut store, "hh-c", "王家明", "021-12345678", "广州");
    assert_eq!(
        found(&store, "王家"),
        ["hh-b", "hh-c", "hh-a"],
        "the whole name, then a name starting with it, then an address containing it"
    );
    assert_eq!(found(&store, "139 1234 5678"), ["hh-a"], "the whole number");
    assert_eq!(
        found(&store, "1391234567"),
        ["hh-b", "hh-a"],
        "two numbers starting with it, by name"
    );
    assert_eq!(
        found(&store, "2345678"),
        ["hh-c", "hh-a"],
        "numbers containing it, by name"
    );
}

#[test]
fn changing_a_households_phones_reindexes_them_in_the_same_write() {
    let (_dir, mut store) = store();
    put_seed_households(&mut store);
    store
        .update(&DocId::Household("hh-1".into()), |h: &mut Household| {
            let mut c = h.contact();
            c.phones = vec!["021-6234 5678".into(), "13800000001".into()];
            h.update_contact(c, DAY + 1)
        })
        .expect("update");
    assert_eq!(
        found(&store, "62345678"),
        ["hh-1"],
        "the new landline is found"
    );
    assert_eq!(
        store
            .households_with_phone("02162345678")
            .expect("by phone"),
        ["hh-1"]
    );
    let refused = store.update(&DocId::Household("hh-1".into()), |h: &mut Household| {
        let mut c = h.contact();
        c.phones = vec!["12345".into()];
        h.update_contact(c, DAY + 2)
    });
    assert_eq!(refused.expect_err("bad phone").code(), "registry.bad_phone");
    assert_eq!(
        found(&store, "62345678"),
        ["hh-1"],
        "a refused edit changes no row"
    );
    store.rebuild_indexes().expect("rebuild");
    assert_eq!(
        found(&store, "62345678"),
        ["hh-1"],
        "rebuilt rows are the same"
    );
}

fn imported_order(n: u32, external_ref: &str) -> Order {
    let mut o = Order::create(seed::order(n, DAY), &SlaPolicy::default(), CREATED).expect("order");
    o.external_ref = Some(external_ref.into());
    o
}

#[test]
fn a_batch_writes_every_document_or_none() {
    let (dir, mut store) = store();
    put_seed_households(&mut store);
    let a = imported_order(1, "EXT-1");
    let b = imported_order(2, "EXT-2");
    let err = store
        .batch(|batch| {
            batch.create(&DocId::Order(a.order_id.clone()), &a)?;
            batch.update(&DocId::Household("hh-2".into()), |h: &mut Household| {
                h.notes = "changed in a failed batch".into();
                Ok(())
            })?;
            // hh-1 exists: the whole batch fails.
            batch.create(&DocId::Household("hh-1".into()), &seed::household(0, DAY))
        })
        .expect_err("an existing document refuses the batch");
    assert!(matches!(err, StoreError::AlreadyExists(_)), "{err}");
    assert!(
        !store
            .contains(&DocId::Order(a.order_id.clone()))
            .expect("contains"),
        "the order written before the failure is rolled back"
    );
    assert!(
        store.imported_refs().expect("refs").is_empty(),
        "and its index rows"
    );
    let hh2: Household = store.read(&DocId::Household("hh-2".into())).expect("read");
    assert_eq!(
        hh2,
        seed::household(1, DAY),
        "the household is as committed"
    );

    store
        .batch(|batch| {
            batch.create(&DocId::Order(a.order_id.clone()), &a)?;
            batch.create(&DocId::Order(b.order_id.clone()), &b)?;
            batch.update(&DocId::Household("hh-2".into()), |h: &mut Household| {
                h.notes = "one".into();
                Ok(())
            })?;
            batch
                .update(&DocId::Household("hh-2".into()), |h: &mut Household| {
                    h.notes.push_str(" two");
                    Ok(())
                })
                .map(drop)
        })
        .expect("batch");
    let refs = store.imported_refs().expect("refs");
    assert_eq!(
        refs.get("EXT-1").map(String::as_str),
        Some(a.order_no.as_str())
    );
    assert_eq!(refs.len(), 2, "both orders' references are indexed");
    let hh2: Household = store.read(&DocId::Household("hh-2".into())).expect("read");
    assert_eq!(
        hh2.notes, "one two",
        "two updates of one document in one batch"
    );
    assert_eq!(
        store
            .household_row("hh-2")
            .expect("row")
            .expect("present")
            .orders,
        1,
        "order 1 is household 2's (seed::order(n) is household n % 4 + 1)"
    );
    drop(store);
    let store = Store::open_in(dir.path()).expect("reopen");
    assert_eq!(
        store
            .read::<Household>(&DocId::Household("hh-2".into()))
            .expect("read")
            .notes,
        "one two",
        "the batch is durable"
    );
    store.integrity_check().expect("integrity");
}
