//! The technician's lists beyond Today (upcoming days, search) and drafts of typed text kept
//! across a reopen of the store.

mod common;

use common::*;
use onsite_domain::order::{DispatchStatus, Order};
use onsite_domain::{DocId, HOUR};
use onsite_store::{Draft, DraftKey, Store};

const DAY_MS: i64 = 24 * HOUR;

fn seeded() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open_in(dir.path()).expect("open store");
    seed_reference(&mut store, &["t1", "t2"]);
    (dir, store)
}

fn ids(rows: &[onsite_store::TodayRow]) -> Vec<&str> {
    rows.iter().map(|r| r.order.order_id.as_str()).collect()
}

#[test]
fn upcoming_lists_open_orders_after_tomorrow_in_schedule_order() {
    let (_dir, mut store) = seeded();
    // Orders 1..=4 on days 0, 2, 5, 3 after DAY; 5 is t2's; 6 on day 4 is cancelled.
    for (n, day) in [(1, 0), (2, 2), (3, 5), (4, 3), (6, 4)] {
        create_order(&mut store, n, DAY + day * DAY_MS, "t1");
    }
    create_order(&mut store, 5, DAY + 3 * DAY_MS, "t2");
    store
        .update(&DocId::Order("o-00006".into()), |o: &mut Order| {
            o.set_status(DispatchStatus::Cancelled, "customer cancelled", CREATED)
        })
        .expect("cancel");
    let rows = store
        .upcoming("t1", DAY + 2 * DAY_MS, DAY + 9 * HOUR)
        .expect("upcoming");
    assert_eq!(
        ids(&rows),
        ["o-00002", "o-00004", "o-00003"],
        "from the day after tomorrow on, by schedule; not today's, not t2's, not cancelled"
    );
    let today = store
        .today("t1", DAY, DAY + 2 * DAY_MS, DAY + 9 * HOUR)
        .expect("today");
    assert!(
        ids(&today).iter().all(|id| !ids(&rows).contains(id)),
        "Today and Upcoming never list the same order"
    );
}

#[test]
fn search_orders_by_number_name_phone_or_address() {
    let (_dir, mut store) = seeded();
    for n in 1..=6 {
        create_order(&mut store, n, DAY + (n as i64 % 3) * DAY_MS, "t1");
    }
    create_order(&mut store, 7, DAY, "t2");
    let now = DAY + 9 * HOUR;
    let find = |q: &str| -> Vec<String> {
        ids(&store.search_orders("t1", q, 10, now).expect("search"))
            .into_iter()
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(find("WO-00004"), ["o-00004"], "by order number");
    // seed::order gives 4 households (n % 4): orders 1 and 5 are 李娜's.
    assert_eq!(
        find("李娜"),
        ["o-00001", "o-00005"],
        "by name, in schedule order"
    );
    assert_eq!(find("13800000002"), ["o-00001", "o-00005"], "by phone");
    assert_eq!(find("漕溪北路"), ["o-00001", "o-00005"], "by address");
    assert!(
        find("刘洋").iter().all(|id| id != "o-00007"),
        "only t1's orders"
    );
    assert!(find("%").is_empty(), "% is literal");
    assert!(find("   ").is_empty(), "an empty query finds nothing");
    assert_eq!(
        store
            .search_orders("t1", "上海市", 2, now)
            .expect("search")
            .len(),
        2,
        "the limit holds"
    );
}

fn key(order: &str, field: &str, item: &str) -> DraftKey {
    DraftKey {
        order_id: order.into(),
        field: field.into(),
        template_id: if item.is_empty() { "" } else { "repair" }.into(),
        item_id: item.into(),
    }
}

#[test]
fn drafts_are_kept_durably_replaced_and_discarded() {
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let mut store = Store::open_in(dir.path()).expect("open store");
        for (k, text, at) in [
            (key("o-1", "work_performed", ""), "Replaced", 1),
            (key("o-1", "work_performed", ""), "Replaced the cap", 2),
            (key("o-1", "reading", "repair.supply_voltage"), "26", 3),
            (key("o-1", "note", "repair.supply_voltage"), "", 4),
            (key("o-2", "diagnosis", ""), "other order", 5),
        ] {
            store
                .save_draft(&Draft {
                    key: k,
                    text: text.into(),
                    saved_at_ms: at,
                })
                .expect("save draft");
        }
    }
    let mut store = Store::open_in(dir.path()).expect("reopen store");
    let drafts = store.drafts("o-1").expect("drafts");
    let got: Vec<(&str, &str)> = drafts
        .iter()
        .map(|d| (d.key.field.as_str(), d.text.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("note", ""),
            ("reading", "26"),
            ("work_performed", "Replaced the cap")
        ],
        "drafts survive a reopen; a later save replaces the earlier; an erased field is a draft"
    );
    assert_eq!(
        store
            .discard_item_drafts("o-1", "repair", "repair.supply_voltage")
            .expect("discard item"),
        2
    );
    assert!(
        store
            .discard_draft(&key("o-1", "work_performed", ""))
            .expect("discard")
    );
    assert!(
        !store
            .discard_draft(&key("o-1", "work_performed", ""))
            .expect("discard again"),
        "nothing left to discard"
    );
    assert!(store.drafts("o-1").expect("drafts").is_empty());
    assert_eq!(store.discard_order_drafts("o-2").expect("discard order"), 1);
    assert!(store.drafts("o-2").expect("drafts").is_empty());
}
