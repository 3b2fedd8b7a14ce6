//! The conflict review queue against a seeded relay on 127.0.0.1: the technician is on site when
//! the dispatcher puts the order on hold; the dispatcher's queue lists the conflict with the
//! actions that resolve it, refuses what does not, records the decision on the order; the relay
//! accepts it and the technician's order shows the conflict and the decision in plain words.

mod common;

use onsite_app::App;
use onsite_app::view::*;
use onsite_domain::Code;
use onsite_domain::resolve::{Choice, ResolutionAction};
use onsite_domain::status::ConflictKind;
use onsite_testkit::relay::{Seeded, wait_for};

const ORDER: &str = "o-00000";

async fn signed_in(seeded: &Seeded, name: &str, user: &str) -> App {
    let app = common::open(&seeded.dir.path().join(name));
    common::sign_in(&app, &seeded.url, user).await;
    app
}

fn progress(app: &App, step: Step) {
    app.apply_edit(ORDER, EditRequest::Progress { step })
        .unwrap_or_else(|e| panic!("{step:?} recorded: {e:?}"));
}

fn request(c: &ConflictView, action: ResolutionAction, note: &str) -> ResolveConflictRequest {
    ResolveConflictRequest {
        order_id: c.order_id.clone(),
        key: c.key.clone(),
        choice: Choice {
            action,
            technician_id: None,
        },
        note: note.to_owned(),
    }
}

fn code(r: Result<ConflictQueueView, onsite_app::AppError>) -> Code {
    r.expect_err("refused").code()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_while_on_site_is_reviewed_decided_and_shown_to_the_technician() {
    let seeded = Seeded::start().await;
    let tech = signed_in(&seeded, "tech", "tech.a").await;
    let disp = signed_in(&seeded, "disp", "disp").await;
    wait_for("tech.a's order on the device", || {
        tech.order_detail(ORDER).is_ok()
    })
    .await;
    progress(&tech, Step::EnRoute);
    progress(&tech, Step::Arrived);
    tech.sync_now().expect("the technician syncs");
    wait_for("the visit to reach the dispatcher", || {
        disp.dispatch_order(ORDER)
            .is_ok_and(|o| o.card.status == onsite_domain::status::EffectiveStatus::OnSite)
    })
    .await;
    assert_eq!(
        disp.conflicts().expect("queue").open,
        0,
        "nothing to review while the order is open"
    );

    disp.hold_order(ORDER, "缺配件 / parts shortage")
        .expect("hold");
    let queue = disp.conflicts().expect("queue");
    assert_eq!(queue.open, 1, "one open conflict: {queue:?}");
    let c = queue.conflicts[0].clone();
    assert_eq!(
        (c.order_id.as_str(), c.kind, c.open),
        (ORDER, ConflictKind::StoppedWhileOnSite, true)
    );
    assert_eq!(
        c.allowed
            .iter()
            .map(|a| a.choice.action)
            .collect::<Vec<_>>(),
        [ResolutionAction::Resume, ResolutionAction::KeepStopped],
        "the actions Rust allows for a hold while on site"
    );

    assert_eq!(
        code(tech.resolve_conflict(request(&c, ResolutionAction::KeepStopped, "x"))),
        Code::ConsoleDispatcherOnly,
        "a technician cannot decide"
    );
    assert_eq!(
        code(disp.resolve_conflict(request(&c, ResolutionAction::KeepStopped, " "))),
        Code::InputEmpty,
        "a decision needs a note"
    );
    assert_eq!(
        code(disp.resolve_conflict(request(&c, ResolutionAction::Acknowledge, "x"))),
        Code::ConflictActionNotAllowed,
        "acknowledge does not answer a hold"
    );
    let mut ghost = request(&c, ResolutionAction::KeepStopped, "x");
    ghost.key = "stopped_while_on_site|tech.b|on_hold".into();
    assert_eq!(
        code(disp.resolve_conflict(ghost)),
        Code::ConflictNotFound,
        "a conflict the order does not have"
    );
    assert_eq!(
        disp.conflicts().expect("queue").open,
        1,
        "refusals change nothing"
    );

    let note = "客户明天在家 / customer home tomorrow";
    let after = disp
        .resolve_conflict(request(&c, ResolutionAction::KeepStopped, note))
        .expect("keep it on hold");
    assert_eq!(after.open, 0, "resolved, not open: {after:?}");
    let r = after.conflicts[0]
        .resolution
        .clone()
        .expect("listed with its decision");
    assert_eq!(
        (r.action, r.note.as_str(), r.by.as_str()),
        (ResolutionAction::KeepStopped, note, "disp"),
        "what, why and who"
    );
    assert!(after.conflicts[0].allowed.is_empty(), "no more actions");
    assert_eq!(
        code(disp.resolve_conflict(request(&c, ResolutionAction::Resume, "x"))),
        Code::ConflictAlreadyResolved
    );

    // The relay accepts the decision on the dispatcher's order; the technician sees it.
    disp.sync_now().expect("the dispatcher syncs");
    wait_for("the decision to reach the technician", || {
        tech.sync_now().is_ok()
            && tech
                .order_detail(ORDER)
                .is_ok_and(|d| d.conflicts.iter().any(|c| c.resolution.is_some()))
    })
    .await;
    let d = tech.order_detail(ORDER).expect("detail");
    assert_eq!(d.conflicts.len(), 1, "{:?}", d.conflicts);
    let own = &d.conflicts[0];
    assert_eq!(own.kind, ConflictKind::StoppedWhileOnSite);
    assert_eq!(own.dispatch_status, DispatchStatusView::OnHold);
    assert_eq!(own.status_reason, "缺配件 / parts shortage", "and why");
    assert_eq!(
        own.resolution.as_ref().map(|r| (r.action, r.note.as_str())),
        Some((ResolutionAction::KeepStopped, note)),
        "the dispatcher's decision, in the technician's order"
    );
    seeded.stop().await;
}
