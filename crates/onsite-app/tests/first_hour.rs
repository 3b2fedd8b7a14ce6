//! What a new technician meets in the first hour, against a seeded relay on 127.0.0.1: the
//! sign-in screen's relay, orders after tomorrow and search, signing out, past visits per
//! appliance, drafts that survive a restart, and hand-over mode.

mod common;

use common::{open, sign_in};

use std::path::Path;

use onsite_app::App;
use onsite_app::view::*;
use onsite_domain::Code;
use onsite_domain::order::Order;
use onsite_domain::{DocId, HOUR};
use onsite_testkit::DAY;
use onsite_testkit::relay::{Seeded, start_relay, wait_for};

async fn synced_app(seeded: &Seeded, name: &str) -> App {
    let app = open(&seeded.dir.path().join(name));
    sign_in(&app, &seeded.url, "tech.a").await;
    wait_for("the day's orders and their past orders to sync", || {
        app.today().map(|t| !t.orders.is_empty()).unwrap_or(false)
            && app
                .search_orders("WO-H1")
                .map(|l| !l.orders.is_empty())
                .unwrap_or(false)
    })
    .await;
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_screen_proposes_the_default_relay_then_the_last_one() {
    let seeded = Seeded::start().await;
    let data = seeded.dir.path().join("device");
    let app = open(&data);
    let form = app.sign_in_form().expect("form");
    assert_eq!(
        form.relay_url,
        onsite_wire::DEFAULT_RELAY_URL,
        "a fresh device proposes the relay's default address"
    );
    assert!(
        form.default_relay_url
            .ends_with(&format!(":{}", onsite_wire::DEFAULT_RELAY_PORT)),
        "the proposal uses the relay's default port"
    );
    sign_in(&app, &seeded.url, "tech.a").await;
    drop(app);
    let app = open(&data);
    assert_eq!(
        app.sign_in_form().expect("form").relay_url,
        seeded.url,
        "after a restart the screen proposes the relay last signed in at"
    );
    seeded.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_after_tomorrow_are_upcoming_and_every_order_can_be_searched() {
    let seeded = Seeded::start().await;
    let app = synced_app(&seeded, "device").await;
    // One of tech.a's orders moves to next week (written on the device with the relay gone, as
    // a dispatcher's change would arrive).
    seeded.stop().await;
    let today = app.today().expect("today");
    let moved = today.orders[0].order_id.clone();
    let start = DAY + 5 * 24 * HOUR + 9 * HOUR;
    {
        let mut store = app.store().lock().expect("store");
        store
            .update(&DocId::Order(moved.clone()), |o: &mut Order| {
                o.schedule = Some(onsite_domain::order::Window {
                    start_ms: start,
                    end_ms: start + 2 * HOUR,
                });
                Ok(())
            })
            .expect("reschedule");
    }
    let today = app.today().expect("today");
    assert!(
        today.orders.iter().all(|o| o.order_id != moved),
        "an order next week is not on Today"
    );
    let upcoming = app.upcoming().expect("upcoming");
    assert_eq!(
        upcoming
            .orders
            .iter()
            .map(|o| o.order_id.as_str())
            .collect::<Vec<_>>(),
        vec![moved.as_str(), "o-00006"],
        "the moved order (in five days) and the seed's order next week are reachable from \
         Upcoming, by schedule"
    );
    let card = &upcoming.orders[0];
    for query in [
        card.order_no.as_str(),
        card.customer_name.as_str(),
        &card.address[..card.address.len().min(9)],
    ] {
        let hits = app.search_orders(query).expect("search");
        assert!(
            hits.orders.iter().any(|o| o.order_id == moved),
            "searching '{query}' finds the order"
        );
    }
    let phone = app.order_detail(&moved).expect("detail").phone;
    assert!(
        app.search_orders(&phone)
            .expect("search")
            .orders
            .iter()
            .any(|o| o.order_id == moved),
        "search by phone"
    );
    assert!(
        app.search_orders("  ").expect("search").orders.is_empty(),
        "an empty query finds nothing"
    );
    assert!(
        app.search_orders("%").expect("search").orders.is_empty(),
        "wildcards are matched literally"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_is_refused_while_unsynced_and_revokes_the_token() {
    let mut seeded = Seeded::start().await;
    let data = seeded.dir.path().join("device");
    let app = synced_app(&seeded, "device").await;
    let oid = app.today().expect("today").orders[0].order_id.clone();
    // Offline edit: stop the relay first so the change stays pending.
    seeded.kill();
    app.apply_edit(
        &oid,
        EditRequest::Progress {
            step: Step::EnRoute,
        },
    )
    .expect("en route");
    let pending = app
        .store()
        .lock()
        .expect("store")
        .pending_count()
        .expect("count");
    assert!(pending > 0, "the offline edit is pending");
    let e = app.sign_out().await.unwrap_err();
    assert_eq!(
        e.code(),
        "auth.unsynced_work",
        "unsynced work blocks sign-out"
    );
    assert!(
        e.to_string().starts_with(&format!("{pending} change")),
        "the refusal says how many: {e}"
    );
    assert!(
        app.session().expect("session").is_some(),
        "a refused sign-out keeps the session"
    );

    // A fresh device with nothing pending and the relay gone: signed out locally only.
    drop(app);
    let relay = start_relay(&seeded.db, "127.0.0.1:0".parse().unwrap()).await;
    let other = synced_app_at(&relay.url(), &data.with_file_name("second")).await;
    relay.stop().await;
    let out = other.sign_out().await.expect("offline sign-out");
    assert!(
        !out.relay_notified,
        "the relay could not be told; the token expires by itself"
    );
    assert_eq!(
        other.session().expect("session"),
        None,
        "the session is gone"
    );

    // Online: the relay revokes the token.
    let relay = start_relay(&seeded.db, "127.0.0.1:0".parse().unwrap()).await;
    let third = synced_app_at(&relay.url(), &data.with_file_name("third")).await;
    let token = onsite_client::Session::load(third.store())
        .expect("session")
        .and_then(|s| s.token)
        .expect("token");
    let out = third.sign_out().await.expect("sign out");
    assert!(out.relay_notified, "the relay was told");
    let status = reqwest_status(&relay.url(), &token).await;
    assert_eq!(status, 401, "the revoked token no longer syncs");
    assert!(
        third.today().is_err(),
        "signed out: the lists ask to sign in"
    );
    relay.stop().await;
}

async fn synced_app_at(url: &str, dir: &Path) -> App {
    let app = open(dir);
    sign_in(&app, url, "tech.a").await;
    wait_for("orders to sync", || {
        app.today().map(|t| !t.orders.is_empty()).unwrap_or(false)
            && app
                .sync_status()
                .map(|s| s.pending_changes == 0)
                .unwrap_or(false)
    })
    .await;
    app
}

/// The status the relay answers an empty sync with `token`.
async fn reqwest_status(url: &str, token: &str) -> u16 {
    let relay = onsite_client::Relay::new(url).expect("relay");
    match relay
        .sync(
            token,
            &onsite_wire::SyncRequest {
                snapshot: None,
                window_days: None,
                cursor: 0,
                docs: Vec::new(),
                count_remaining: false,
            },
        )
        .await
    {
        Ok(_) => 200,
        Err(onsite_client::ClientError::Auth { .. }) => 401,
        Err(e) => panic!("unexpected error {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_orders_show_their_appliances_past_visits() {
    let seeded = Seeded::start().await;
    let app = synced_app(&seeded, "device").await;
    let today = app.today().expect("today");
    let card = today
        .orders
        .iter()
        .find(|o| o.order_id == "o-00000")
        .expect("demo order 0 is tech.a's");
    let detail = app.order_detail(&card.order_id).expect("detail");
    let ac = detail
        .appliances
        .iter()
        .find(|a| a.this_order)
        .expect("the order's appliance");
    let signed: Vec<&str> = ac
        .history
        .iter()
        .filter(|v| v.signed)
        .map(|v| v.order_no.as_str())
        .collect();
    assert_eq!(
        signed,
        ["WO-H101", "WO-H100"],
        "the household's signed past orders on this air-conditioner are listed, newest \
         first: {:?}",
        ac.history
    );
    seeded.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_survive_a_restart_and_a_commit_clears_them() {
    let mut seeded = Seeded::start().await;
    let data = seeded.dir.path().join("device");
    let app = synced_app(&seeded, "device").await;
    let oid = app.today().expect("today").orders[0].order_id.clone();
    let reading = DraftField::Reading {
        template_id: "repair".into(),
        item_id: "repair.supply_voltage".into(),
    };
    let note = DraftField::Note {
        template_id: "repair".into(),
        item_id: "repair.supply_voltage".into(),
    };
    for (field, text) in [
        (DraftField::WorkPerformed, "Replaced the run cap"),
        (reading.clone(), "2x0"),
        (note.clone(), "grid high"),
    ] {
        app.save_draft(DraftRequest {
            order_id: oid.clone(),
            field,
            text: text.into(),
        })
        .expect("save draft");
    }
    let e = app
        .save_draft(DraftRequest {
            order_id: "o-nope".into(),
            field: DraftField::Diagnosis,
            text: "x".into(),
        })
        .unwrap_err();
    assert_eq!(
        e.code(),
        "order.not_found",
        "a draft needs an order on the device"
    );
    let e = app
        .save_draft(DraftRequest {
            order_id: oid.clone(),
            field: DraftField::Diagnosis,
            text: "x".repeat(onsite_app::MAX_DRAFT_CHARS + 1),
        })
        .unwrap_err();
    assert_eq!(e.code(), "draft.too_long");
    seeded.kill();
    drop(app);

    // Restart: the drafts are still there, word for word; an invalid reading is kept as typed.
    let app = open(&data);
    let drafts = app.drafts(&oid).expect("drafts");
    let text = |f: &DraftField| {
        drafts
            .iter()
            .find(|d| &d.field == f)
            .map(|d| d.text.as_str())
    };
    assert_eq!(
        text(&DraftField::WorkPerformed),
        Some("Replaced the run cap")
    );
    assert_eq!(
        text(&reading),
        Some("2x0"),
        "a draft reading is not validated"
    );
    assert_eq!(text(&note), Some("grid high"));
    assert_eq!(
        text(&DraftField::Diagnosis),
        None,
        "the refused drafts were not kept"
    );

    // Committing the notes clears their drafts, and only theirs.
    app.apply_edit(
        &oid,
        EditRequest::SetNotes {
            diagnosis: String::new(),
            work_performed: "Replaced the run cap".into(),
        },
    )
    .expect("save notes");
    let left: Vec<DraftField> = app
        .drafts(&oid)
        .expect("drafts")
        .into_iter()
        .map(|d| d.field)
        .collect();
    assert_eq!(
        left,
        vec![note.clone(), reading.clone()],
        "the notes' drafts are gone"
    );
    app.discard_draft(&oid, note).expect("discard");
    assert_eq!(app.drafts(&oid).expect("drafts").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_over_mode_hides_everything_but_the_order_and_survives_a_restart() {
    let mut seeded = Seeded::start().await;
    let data = seeded.dir.path().join("device");
    let app = synced_app(&seeded, "device").await;
    let orders = app.today().expect("today").orders;
    let (mine, other) = (orders[0].order_id.clone(), orders[1].order_id.clone());
    assert_eq!(app.handover_lock().expect("lock").order_id, None);
    let e = app.lock_handover("o-nope").unwrap_err();
    assert_eq!(e.code(), "order.not_found");
    app.lock_handover(&mine).expect("hand over");
    seeded.kill();
    drop(app);

    let app = open(&data);
    assert_eq!(
        app.handover_lock().expect("lock").order_id.as_deref(),
        Some(mine.as_str()),
        "a restart mid-hand-over stays locked"
    );
    for (what, code) in [
        ("today", app.today().err().map(|e| e.code())),
        ("upcoming", app.upcoming().err().map(|e| e.code())),
        ("search", app.search_orders("WO").err().map(|e| e.code())),
        (
            "other order",
            app.order_detail(&other).err().map(|e| e.code()),
        ),
    ] {
        assert_eq!(
            code,
            Some(Code::HandoverLocked),
            "{what} is refused while the customer holds the device"
        );
    }
    app.order_detail(&mine)
        .expect("the handed-over order stays readable");
    app.unlock_handover().expect("unlock");
    assert!(app.today().is_ok(), "unlocked: Today is back");
}
