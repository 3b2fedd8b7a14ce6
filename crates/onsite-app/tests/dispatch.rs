//! The dispatcher console against a seeded relay on 127.0.0.1: a dispatcher's device creates and
//! assigns an order offline and syncs; the technician's device receives it, completes and signs
//! it and syncs; the dispatcher's device learns of the completion through push (no manual sync).
//! An assignment to an unqualified technician is refused on the device.

mod common;

use common::complete_job;

use onsite_app::App;
use onsite_app::view::*;
use onsite_domain::order::Tier;
use onsite_domain::reference::{NotQualified, ServiceType, TechnicianProfile};
use onsite_domain::status::{ConflictKind, EffectiveStatus};
use onsite_domain::{Code, DocId, HOUR};
use onsite_testkit::DAY;
use onsite_testkit::relay::{Seeded, wait_for};

/// `user` signed in on the device folder `name`, syncing by push only (no poll).
async fn signed_in(seeded: &Seeded, name: &str, user: &str) -> App {
    let app =
        common::open(&seeded.dir.path().join(name)).with_sync_config(common::push_only_sync());
    common::sign_in(&app, &seeded.url, user).await;
    app
}

/// A dispatcher whose device holds the seeded orders and both technicians' profiles.
async fn dispatcher(seeded: &Seeded) -> App {
    let app = signed_in(seeded, "disp", "disp").await;
    wait_for(
        "the service centre's documents to reach the dispatcher",
        || {
            app.board(0)
                .map(|b| b.lanes.len() == 2 && b.lanes.iter().all(|l| !l.blocks.is_empty()))
                .unwrap_or(false)
        },
    )
    .await;
    app
}

fn new_order() -> NewOrderRequest {
    NewOrderRequest {
        household_id: None,
        customer_name: "赵敏".to_owned(),
        phone: "13800000099".to_owned(),
        address: "上海市黄浦区人民大道 200 号".to_owned(),
        tier: Tier::Gold,
        notes: String::new(),
        appliance_id: None,
        new_appliance: Some(ApplianceInput {
            category: "washer".to_owned(),
            brand: "Haier".to_owned(),
            model: "EG100".to_owned(),
            serial: "SW0000000001".to_owned(),
        }),
        service_type: ServiceType::Repair,
        problem: "洗衣机不脱水 / washer does not spin".to_owned(),
        window: Some(WindowInput {
            start_ms: DAY + 14 * HOUR,
            end_ms: DAY + 16 * HOUR,
        }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_created_offline_reaches_the_technician_and_its_completion_comes_back() {
    let seeded = Seeded::start().await;
    let disp = dispatcher(&seeded).await;
    assert_eq!(
        disp.session().expect("session").map(|s| s.role),
        Some(RoleView::Dispatcher),
        "the session carries the role the UI routes on"
    );
    assert_eq!(
        disp.take_new_completions().expect("baseline"),
        vec![],
        "the first look only takes note of what is there"
    );
    let tech = signed_in(&seeded, "tech", "tech.a").await;
    wait_for("tech.a's day", || {
        tech.today().map(|t| !t.orders.is_empty()).unwrap_or(false)
    })
    .await;

    // Offline: create, see it in the pool, assign.
    disp.stop_sync();
    let preview = disp.sla_preview(Tier::Gold).expect("preview");
    let created = disp.create_order(new_order()).expect("create offline");
    let drift = created.respond_by_ms - preview.respond_by_ms;
    assert!(
        (0..60_000).contains(&drift),
        "the SLA shown before saving is the one the order gets, up to the seconds between (drift {drift} ms)"
    );
    assert_eq!(
        created.arrive_by_ms - created.respond_by_ms,
        preview.arrive_by_ms - preview.respond_by_ms,
        "the same tier's targets"
    );
    let oid = created.card.order_id.clone();
    assert!(
        created.card.order_no.starts_with("WO-"),
        "an order number was given"
    );
    let board = disp.board(0).expect("board");
    assert!(
        board.pool.iter().any(|c| c.order_id == oid),
        "the new order waits in the pool"
    );
    let assigned = disp.assign_order(&oid, "tech.a").expect("assign offline");
    assert_eq!(assigned.card.assignee.as_deref(), Some("tech.a"));
    assert_eq!(
        assigned.transfers.len(),
        1,
        "the assignment is in the history"
    );
    let board = disp.board(0).expect("board");
    let lane = board
        .lanes
        .iter()
        .find(|l| l.technician_id == "tech.a")
        .expect("tech.a's lane");
    assert!(
        lane.blocks.iter().any(|c| c.order_id == oid)
            && board.pool.iter().all(|c| c.order_id != oid),
        "the order moved from the pool to tech.a's lane"
    );

    // Back online: the technician's device receives it through push.
    assert!(disp.start_sync(), "the dispatcher is signed in");
    wait_for("the technician to receive the new order", || {
        tech.today()
            .map(|t| t.orders.iter().any(|o| o.order_id == oid))
            .unwrap_or(false)
    })
    .await;
    complete_job(&tech, &oid, "tech.a");
    tech.sync_now().expect("technician syncs");

    // The dispatcher never asks: push → sync → the new completion.
    let mut notices = Vec::new();
    wait_for(
        "the completion to reach the dispatcher through push",
        || {
            notices.extend(disp.take_new_completions().unwrap_or_default());
            !notices.is_empty()
        },
    )
    .await;
    assert_eq!(notices.len(), 1, "one new completion: {notices:?}");
    let n = &notices[0];
    assert_eq!(
        n.order_no, created.card.order_no,
        "the notice names the order"
    );
    assert_eq!(n.technician_name, "张师傅 Zhang", "and the technician");
    assert_eq!(n.stars, Some(5), "and the customer's rating");
    assert!(
        n.verified,
        "the signed record verifies on the dispatcher's device"
    );
    assert_eq!(
        disp.take_new_completions().expect("again"),
        vec![],
        "a completion is announced once"
    );
    let list = disp.completions().expect("completions");
    assert!(
        list.completions.iter().any(|c| c.order_id == oid),
        "the completion is listed"
    );
    record_opens_on_the_dispatchers_device(&disp, &tech, &oid).await;
    let board = disp.board(0).expect("board");
    let block = board
        .lanes
        .iter()
        .flat_map(|l| l.blocks.iter())
        .find(|c| c.order_id == oid)
        .expect("the order stays on tech.a's lane");
    assert_eq!(
        block.status,
        EffectiveStatus::Completed,
        "shown as completed"
    );
    assert!(!block.alert, "a completed order is not counted as at risk");

    // Cancelled after it was done: the review queue shows it with the facts to decide.
    disp.cancel_order(&oid, "customer called to cancel")
        .expect("cancel");
    let conflicts = disp.conflicts().expect("conflicts");
    let found = conflicts
        .conflicts
        .iter()
        .find(|c| c.order_id == oid)
        .expect("a conflict for the order");
    assert_eq!(found.kind, ConflictKind::CancelledButCompleted);
    assert_eq!(
        (found.technicians.clone(), found.technician_names.clone()),
        (vec!["tech.a".to_owned()], vec!["张师傅 Zhang".to_owned()]),
        "who completed it"
    );
    assert_eq!(
        found.status_reason, "customer called to cancel",
        "and why it was cancelled"
    );
    seeded.stop().await;
}

/// The dispatcher opens the record tech.a signed on `oid` as the technician's Done screen does:
/// the signature image is fetched from the relay on demand, the PDF is saved.
async fn record_opens_on_the_dispatchers_device(disp: &App, tech: &App, oid: &str) {
    let signature = |app: &App| {
        let store = app.store().lock().expect("store");
        let visit: onsite_domain::visit::Visit = store
            .read(&DocId::visit(oid, "tech.a"))
            .expect("the signed visit");
        let sha = visit.signature.expect("signed").image_sha256;
        store.has_attachment(&sha).expect("attachment lookup")
    };
    wait_for("the signature image to reach the relay", || {
        tech.store()
            .lock()
            .map(|s| s.pending_attachments().is_ok_and(|p| p.is_empty()))
            .unwrap_or(false)
    })
    .await;
    assert!(
        !signature(disp),
        "sync never brings attachments to the dispatcher"
    );
    let named = disp.record_html(oid, None, "en").await.unwrap_err();
    assert_eq!(
        named.code(),
        Code::InputEmpty,
        "a dispatcher names whose record (an order may have several): {named}"
    );
    let html = disp
        .record_html(oid, Some("tech.a"), "en")
        .await
        .expect("the dispatcher opens tech.a's record");
    let own = tech
        .record_html(oid, None, "en")
        .await
        .expect("the technician's own record");
    assert_eq!(html, own, "the same record on both devices");
    assert!(signature(disp), "the signature image was fetched on demand");
    let pdf = disp
        .save_record_pdf(oid, Some("tech.a"), "zh-CN")
        .await
        .expect("the dispatcher exports the PDF");
    assert!(
        pdf.pages >= 1 && pdf.file_name.ends_with("-zh-CN.pdf"),
        "{pdf:?}"
    );
    let other = tech
        .record_html(oid, Some("tech.b"), "en")
        .await
        .unwrap_err();
    assert_eq!(
        other.code(),
        Code::ConsoleDispatcherOnly,
        "a technician opens only their own record: {other}"
    );
    let unsigned = disp
        .record_html(oid, Some("tech.b"), "en")
        .await
        .unwrap_err();
    assert_eq!(
        unsigned.code(),
        Code::RecordNotSigned,
        "tech.b signed nothing here"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeded_orders_in_one_window_are_on_separate_tracks_of_their_lane() {
    let seeded = Seeded::start().await;
    let disp = dispatcher(&seeded).await;
    let board = disp.board(0).expect("board");
    let lane = board
        .lanes
        .iter()
        .find(|l| l.blocks.iter().any(|c| c.order_id == "o-00001"))
        .expect("o-00001 is on a lane");
    assert_eq!(
        lane.block_tracks.len(),
        lane.blocks.len(),
        "one track per block"
    );
    let track = |id: &str| {
        let i = lane.blocks.iter().position(|c| c.order_id == id);
        i.map(|i| lane.block_tracks[i]).expect("on the lane")
    };
    assert_ne!(
        track("o-00001"),
        track("o-00005"),
        "the seed's o-00001 and o-00005 share their window, so they are stacked"
    );
    assert!(lane.tracks >= 2, "the lane is tall enough for both");
    assert!(
        lane.block_tracks.iter().all(|t| *t < lane.tracks),
        "every block within the lane"
    );
    seeded.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unqualified_technician_is_refused_and_a_reassignment_needs_a_reason() {
    let seeded = Seeded::start().await;
    let disp = dispatcher(&seeded).await;
    disp.stop_sync();
    // tech.b's certificate is withdrawn on the dispatcher's device.
    {
        let mut store = disp.store().lock().expect("store");
        store
            .update(
                &DocId::Profile("tech.b".into()),
                |p: &mut TechnicianProfile| {
                    p.certificate_withdrawn_at_ms = Some(DAY);
                    Ok(())
                },
            )
            .expect("withdraw");
    }
    let oid = disp
        .create_order(new_order())
        .expect("create")
        .card
        .order_id;
    let picker = disp.assignment_picker(&oid).expect("picker");
    let b = picker
        .rows
        .iter()
        .find(|r| r.technician_id == "tech.b")
        .expect("tech.b is listed");
    assert_eq!(
        (b.not_qualified, b.choosable),
        (Some(NotQualified::CertificateWithdrawn), false),
        "the picker shows why tech.b cannot be chosen"
    );
    assert_eq!(picker.rows[0].technician_id, "tech.a", "choosable first");
    let refused = disp.assign_order(&oid, "tech.b").expect_err("refused");
    assert_eq!(refused.code(), Code::OrderNotQualified, "{refused}");
    let after = disp.dispatch_order(&oid).expect("order");
    assert_eq!(
        (after.card.assignee, after.transfers.len()),
        (None, 0),
        "a refused assignment changes nothing"
    );

    disp.assign_order(&oid, "tech.a").expect("assign");
    let unknown = disp
        .reassign_order(&oid, "nobody", "x")
        .expect_err("unknown");
    assert_eq!(unknown.code(), Code::OrderUnknownTechnician, "{unknown}");
    let refused = disp
        .reassign_order(&oid, "tech.b", "busy")
        .expect_err("refused");
    assert_eq!(refused.code(), Code::OrderNotQualified, "{refused}");
    let no_reason = disp
        .reassign_order(&oid, "tech.a", " ")
        .expect_err("no reason");
    assert_eq!(no_reason.code(), Code::InputEmpty, "{no_reason}");

    let bad = NewOrderRequest {
        window: Some(WindowInput {
            start_ms: DAY + 10 * HOUR,
            end_ms: DAY + 9 * HOUR,
        }),
        ..new_order()
    };
    assert_eq!(
        disp.create_order(bad).expect_err("bad window").code(),
        Code::OrderBadWindow,
        "a window ending before it starts is refused"
    );
    let held = disp.hold_order(&oid, "customer away").expect("hold");
    assert_eq!(held.card.dispatch_status, DispatchStatusView::OnHold);
    assert_eq!(held.status_reason, "customer away");
    let cancel = disp.cancel_order(&oid, "").expect_err("no reason");
    assert_eq!(cancel.code(), Code::InputEmpty, "cancelling needs a reason");
    seeded.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_technician_cannot_use_the_console() {
    let seeded = Seeded::start().await;
    let tech = signed_in(&seeded, "tech", "tech.a").await;
    assert_eq!(
        tech.session().expect("session").map(|s| s.role),
        Some(RoleView::Technician),
        "the UI routes a technician to the technician's app"
    );
    let e = tech.board(0).expect_err("refused");
    assert_eq!(e.code(), Code::ConsoleDispatcherOnly, "{e}");
    assert_eq!(
        tech.take_new_completions().expect("no error"),
        vec![],
        "a technician's device announces no completions"
    );
    seeded.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_keeps_the_registry_and_two_dispatchers_offline_get_distinct_numbers() {
    let seeded = Seeded::start().await;
    let one = dispatcher(&seeded).await;
    let two = signed_in(&seeded, "disp-2", "disp").await;
    wait_for("the second dispatcher's replicas", || {
        two.board(0).is_ok_and(|b| b.lanes.len() == 2)
    })
    .await;
    // Offline: both devices stop syncing and create orders at the same time.
    one.stop_sync();
    two.stop_sync();
    let a = one.create_order(new_order()).expect("first device's order");
    let b = two
        .create_order(new_order())
        .expect("second device's order");
    let a2 = one
        .create_order(new_order())
        .expect("first device's second order");
    let parse = |no: &str| onsite_domain::numbering::parse(no).expect("a numbered order");
    let (na, nb, na2) = (
        parse(&a.card.order_no),
        parse(&b.card.order_no),
        parse(&a2.card.order_no),
    );
    assert_ne!(
        na.prefix, nb.prefix,
        "each device has its own prefix from the relay"
    );
    assert_eq!(
        (na.seq, na2.seq),
        (1, 2),
        "one device numbers its orders in sequence"
    );
    assert_eq!(na2.prefix, na.prefix, "a device keeps its prefix");
    // The new customer is in the registry of the device that created the order.
    let found = one
        .search_customers("13800000099")
        .expect("registry search");
    let hh = &found
        .households
        .first()
        .expect("the new customer is registered")
        .household_id;
    assert_eq!(
        one.household(hh).expect("household").appliances.len(),
        1,
        "the new appliance is the household's"
    );
    assert_eq!(
        one.find_customers("赵敏").expect("intake search")[0].household_id,
        *hh,
        "intake finds the registry's household first"
    );
    // Online again: both orders reach both devices, and the relay accepted every number.
    assert!(one.start_sync() && two.start_sync(), "sessions to sync");
    let ids = [&a.card.order_id, &b.card.order_id, &a2.card.order_id];
    wait_for("every order on both devices", || {
        ids.iter()
            .all(|id| one.dispatch_order(id).is_ok() && two.dispatch_order(id).is_ok())
    })
    .await;
    for app in [&one, &two] {
        let st = app.sync_status().expect("status");
        assert_eq!(st.last_error, None, "no order was refused: {st:?}");
    }
}
