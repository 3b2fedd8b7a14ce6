//! The dispatcher's customer registry, driven through `App` against a seeded relay on 127.0.0.1:
//! search offline by phone (any spelling), name or address; the household view with every order
//! and visit (warranty, parts replaced, ratings); creating and editing households and appliances
//! through the domain's rules, synced to the relay; and technicians kept out.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use onsite_app::App;
use onsite_app::view::*;
use onsite_domain::household::{Field, FieldRef};
use onsite_domain::order::Tier;
use onsite_domain::{Code, DocId, HOUR};
use onsite_testkit::DAY;
use onsite_testkit::relay::{Seeded, wait_for};

fn open(dir: &Path) -> App {
    let n = Arc::new(AtomicU64::new(1));
    common::open(dir).with_ids(Arc::new(move || {
        format!("id{}", n.fetch_add(1, Ordering::SeqCst))
    }))
}

async fn signed_in(seeded: &Seeded, name: &str, user: &str) -> App {
    let app = open(&seeded.dir.path().join(name));
    common::sign_in(&app, &seeded.url, user).await;
    app
}

/// A dispatcher's device with the registry and every household's orders and visits synced.
async fn dispatcher(seeded: &Seeded, name: &str) -> App {
    let app = signed_in(seeded, name, "disp").await;
    wait_for("the registry and the households' history to sync", || {
        app.household("hh-1")
            .map(|h| {
                // Today's two orders and the two past ones, whose signed visits came along.
                let mut past = h.orders.iter().filter(|o| o.order_no.starts_with("WO-H"));
                h.orders.len() == 4 && past.all(|o| !o.visits.is_empty())
            })
            .unwrap_or(false)
    })
    .await;
    app
}

fn ids(found: &CustomerSearch) -> Vec<&str> {
    found
        .households
        .iter()
        .map(|h| h.household_id.as_str())
        .collect()
}

fn code(e: onsite_app::AppError) -> Code {
    e.code()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dispatcher_finds_customers_offline_and_sees_each_households_history() {
    let seeded = Seeded::start().await;
    let app = dispatcher(&seeded, "disp").await;
    seeded.stop().await;
    app.stop_sync();

    let s = |q: &str| app.search_customers(q).expect("search");
    assert_eq!(
        ids(&s("+86 138-0000-0001")),
        ["hh-1"],
        "a phone in another spelling"
    );
    assert_eq!(ids(&s("0000003")), ["hh-3"], "part of a phone");
    assert_eq!(ids(&s("王芳")), ["hh-3"], "a name");
    assert_eq!(ids(&s("南京西路")), ["hh-3"], "an address");
    let card = &s("张伟").households[0];
    assert_eq!(card.tier, Tier::Gold);
    assert_eq!(card.orders, 4, "today's two orders and two past ones");

    let hh1 = app.household("hh-1").expect("household view");
    let past: Vec<_> = hh1
        .orders
        .iter()
        .filter(|o| o.order_no.starts_with("WO-H"))
        .collect();
    assert_eq!(past.len(), 2, "both past orders are listed");
    for o in &past {
        let v = &o.visits[0];
        assert!(
            v.signed_at_ms.is_some(),
            "{}: the past visit was signed",
            o.order_no
        );
        assert_eq!(
            v.rating.as_ref().map(|r| r.stars),
            Some(5),
            "with its rating"
        );
    }
    assert!(
        hh1.orders
            .windows(2)
            .all(|w| w[0].created_at_ms >= w[1].created_at_ms),
        "newest first"
    );
    assert!(
        hh1.orders.iter().all(|o| o.in_warranty),
        "hh-1's air-conditioner is under warranty"
    );
    let fridge = hh1
        .appliances
        .iter()
        .find(|a| a.category == "fridge")
        .expect("fridge");
    assert!(
        !fridge.in_warranty,
        "the fridge's warranty ended a year ago"
    );
    let hh2 = app.household("hh-2").expect("household view");
    assert!(
        hh2.orders.iter().all(|o| !o.in_warranty),
        "hh-2's air-conditioner was out of warranty for every order"
    );

    // tech.a repairs today's order o-00000 (the edits land on this device as sync would bring
    // them): the household view lists the part replaced.
    {
        let mut store = app.store().lock().expect("store");
        store.start_visit("o-00000", "tech.a").expect("visit");
        for (i, edit) in
            onsite_domain::seed::job_edits(onsite_domain::reference::ServiceType::Repair, "r")
                .into_iter()
                .enumerate()
        {
            store
                .apply_visit_edit("o-00000", "tech.a", edit, DAY + 9 * HOUR + i as i64 * 1_000)
                .expect("the demo repair's edits apply");
        }
    }
    let hh1 = app.household("hh-1").expect("household view");
    let repaired = hh1
        .orders
        .iter()
        .find(|o| o.order_id == "o-00000")
        .expect("o-00000");
    let part = &repaired.visits[0].parts[0];
    assert_eq!(
        (part.part_no.as_str(), part.faulty_serial.as_str()),
        ("AC-CAP-35UF", "CAP-OLD-7731"),
        "the part replaced and the faulty part's serial"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn households_are_created_and_edited_through_the_rules_and_reach_other_dispatchers() {
    let seeded = Seeded::start().await;
    let app = dispatcher(&seeded, "disp").await;
    let contact = ContactRequest {
        name: "赵敏".into(),
        phones: vec!["021-6234 5678".into(), "139 1234 5678".into()],
        address: "上海市长宁区愚园路 1000 弄 9 号".into(),
        tier: Tier::Platinum,
        notes: "请提前电话联系".into(),
        preferences: vec![],
    };
    let bad = app
        .create_household(ContactRequest {
            phones: vec!["12345".into()],
            ..contact.clone()
        })
        .expect_err("a bad phone is refused");
    assert_eq!(code(bad), Code::RegistryBadPhone);
    let shown = CommandError::from(
        app.create_household(ContactRequest {
            phones: vec!["139 1234 5678".into(), "12345".into()],
            ..contact.clone()
        })
        .expect_err("the second phone is bad"),
    );
    assert_eq!(
        shown.field,
        Some(FieldRef {
            field: Field::Phones,
            index: Some(1)
        }),
        "the form shows the error by the second phone"
    );
    let no_name = CommandError::from(
        app.create_household(ContactRequest {
            name: " ".into(),
            ..contact.clone()
        })
        .expect_err("a name is required"),
    );
    assert_eq!(
        (no_name.code, no_name.field.map(|f| f.field)),
        (Code::InputEmpty, Some(Field::Name)),
        "shown by the name"
    );
    assert!(
        app.search_customers("赵敏")
            .expect("search")
            .households
            .is_empty(),
        "nothing was created"
    );

    let created = app.create_household(contact.clone()).expect("create");
    assert_eq!(created.phones, ["02162345678", "13912345678"], "normalised");
    let id = created.household_id.clone();
    assert_eq!(
        ids(&app.search_customers("6234-5678").expect("search")),
        [id.as_str()]
    );

    let renamed = app
        .update_household(
            &id,
            ContactRequest {
                name: "赵敏敏".into(),
                ..contact.clone()
            },
        )
        .expect("update");
    assert_eq!(renamed.name, "赵敏敏");
    let one_phone = app
        .update_household(
            &id,
            ContactRequest {
                name: "赵敏敏".into(),
                phones: vec!["139-1234-5678".into()],
                ..contact.clone()
            },
        )
        .expect("a phone removed");
    assert_eq!(one_phone.phones, ["13912345678"], "only the phone kept");
    assert!(
        app.search_customers("6234-5678")
            .expect("search")
            .households
            .is_empty(),
        "the removed phone no longer finds the household"
    );

    let washer = ApplianceRequest {
        id: None,
        category: "washer".into(),
        brand: "Little Swan".into(),
        model: "TG100V88".into(),
        serial: "LS-1".into(),
        purchase_date_ms: Some(DAY - 24 * HOUR),
        warranty_until_ms: Some(DAY + 3 * 365 * 24 * HOUR),
    };
    let with_washer = app
        .save_appliance(&id, washer.clone())
        .expect("add appliance");
    let appliance = with_washer.appliances[0].clone();
    assert!(appliance.in_warranty);
    let moved = app
        .save_appliance(
            &id,
            ApplianceRequest {
                id: Some(appliance.id.clone()),
                serial: "LS-2".into(),
                ..washer.clone()
            },
        )
        .expect("update appliance");
    assert_eq!(moved.appliances.len(), 1, "updated, not added");
    assert_eq!(moved.appliances[0].serial, "LS-2");
    let refused = app
        .save_appliance(
            &id,
            ApplianceRequest {
                warranty_until_ms: Some(DAY - 48 * HOUR),
                ..washer
            },
        )
        .expect_err("warranty before purchase");
    let refused = CommandError::from(refused);
    assert_eq!(
        (refused.code, refused.field.map(|f| f.field)),
        (
            Code::RegistryWarrantyBeforePurchase,
            Some(Field::WarrantyUntil)
        ),
        "shown by the warranty end"
    );
    assert_eq!(
        code(app.household("hh-404").expect_err("unknown")),
        Code::RegistryHouseholdNotFound
    );

    // Synced: another dispatcher's device finds the household with its appliance.
    let other = dispatcher(&seeded, "disp-2").await;
    wait_for("the new household to reach the second dispatcher", || {
        other
            .household(&id)
            .map(|h| h.appliances.len() == 1 && h.appliances[0].serial == "LS-2")
            .unwrap_or(false)
    })
    .await;
    seeded.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn technicians_neither_receive_nor_use_the_registry() {
    let seeded = Seeded::start().await;
    let tech = signed_in(&seeded, "tech", "tech.a").await;
    wait_for("tech.a's orders to sync", || {
        tech.today().map(|t| !t.orders.is_empty()).unwrap_or(false)
    })
    .await;
    assert_eq!(
        code(tech.search_customers("张伟").expect_err("technician")),
        Code::ConsoleDispatcherOnly
    );
    let docs = tech
        .store()
        .lock()
        .expect("store")
        .list_doc_ids()
        .expect("ids");
    assert!(
        !docs.iter().any(|d| matches!(d, DocId::Household(_))),
        "the relay sends technicians no household: {docs:?}"
    );
    let not_signed_in = open(&seeded.dir.path().join("fresh"));
    assert_eq!(
        code(not_signed_in.search_customers("张伟").expect_err("nobody")),
        Code::AuthNotSignedIn
    );
    seeded.stop().await;
}
