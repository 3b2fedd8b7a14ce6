//! Follow-up calls (回访), complaints and maintenance reminders against a seeded relay on
//! 127.0.0.1: a completion synced from a technician gives the dispatchers a follow-up; one
//! dispatcher's answer and complaint reach the other, who resolves it; a due reminder becomes a
//! numbered maintenance order once, and a dismissed one needs a reason.

mod common;

use onsite_app::App;
use onsite_app::view::*;
use onsite_domain::Code;
use onsite_domain::followup::CallOutcome;
use onsite_domain::reference::ServiceType;
use onsite_domain::reminder::Since;
use onsite_testkit::relay::{Seeded, wait_for};

const ORDER: &str = "o-00000";

async fn signed_in(seeded: &Seeded, name: &str, user: &str) -> App {
    let app = common::open(&seeded.dir.path().join(name));
    common::sign_in(&app, &seeded.url, user).await;
    app
}

fn open_for(app: &App, order_id: &str) -> Option<FollowUpView> {
    app.follow_ups()
        .ok()?
        .follow_ups
        .into_iter()
        .find(|f| f.order_id == order_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completion_gives_a_follow_up_whose_answer_every_dispatcher_sees() {
    let seeded = Seeded::start().await;
    let tech = signed_in(&seeded, "tech", "tech.a").await;
    let disp = signed_in(&seeded, "disp", "disp").await;
    let admin = signed_in(&seeded, "admin", "admin").await;
    wait_for("the follow-ups of the seed's past jobs", || {
        disp.follow_ups().is_ok_and(|f| !f.follow_ups.is_empty())
    })
    .await;
    let before = disp.follow_ups().expect("follow-ups");
    assert!(
        before.follow_ups.iter().all(|f| f.overdue) && before.overdue > 0,
        "the past jobs signed 60 days ago are overdue for their call: {before:?}"
    );
    assert_eq!(
        tech.follow_ups()
            .expect_err("technicians have no follow-ups")
            .code(),
        Code::ConsoleDispatcherOnly,
        "a console screen"
    );
    assert!(
        open_for(&disp, ORDER).is_none(),
        "no follow-up before the completion"
    );

    wait_for("tech.a's order", || tech.order_detail(ORDER).is_ok()).await;
    common::complete_job(&tech, ORDER, "tech.a");
    tech.sync_now().expect("the technician syncs");
    wait_for("the completion to reach the dispatcher", || {
        open_for(&disp, ORDER).is_some()
    })
    .await;
    let f = open_for(&disp, ORDER).expect("a follow-up for the completion");
    assert_eq!(f.technician_id, "tech.a", "about tech.a's visit");
    assert_eq!(
        f.due_at_ms - f.signed_at_ms,
        48 * onsite_domain::HOUR,
        "due 48 h after the signature (the seed's ref:service)"
    );
    assert!(!f.overdue && f.attempts == 0, "fresh: {f:?}");

    let answer = |outcome, words: &str| FollowUpAnswerRequest {
        order_id: ORDER.into(),
        technician_id: "tech.a".into(),
        outcome,
        words: words.into(),
    };
    let after = disp
        .record_follow_up(answer(CallOutcome::NoAnswer, ""))
        .expect("no answer recorded");
    let f = after
        .follow_ups
        .iter()
        .find(|f| f.order_id == ORDER)
        .expect("still open");
    assert_eq!(f.attempts, 1, "one attempt counted");
    assert_eq!(
        disp.record_follow_up(answer(CallOutcome::Complaint, " "))
            .expect_err("a complaint without words")
            .code(),
        Code::FollowupWordsRequired,
        "the customer's words are required"
    );
    let words = "安装后空调有异响 / noise since the visit";
    let after = disp
        .record_follow_up(answer(CallOutcome::Complaint, words))
        .expect("complaint recorded");
    assert!(
        open_for(&disp, ORDER).is_none(),
        "a complaint closes the call"
    );
    let c = after
        .complaints
        .iter()
        .find(|c| c.order_id == ORDER)
        .expect("the complaint is tracked")
        .clone();
    assert!(
        c.open && c.words == words && c.received_by == "disp",
        "{c:?}"
    );

    wait_for("the answer to reach the other dispatcher", || {
        admin.follow_ups().is_ok_and(|v| {
            v.complaints
                .iter()
                .any(|x| x.complaint_id == c.complaint_id)
        })
    })
    .await;
    assert!(
        open_for(&admin, ORDER).is_none(),
        "answered for every dispatcher"
    );
    let resolve = |note: &str| ResolveComplaintRequest {
        order_id: ORDER.into(),
        complaint_id: c.complaint_id.clone(),
        note: note.into(),
    };
    assert_eq!(
        admin
            .resolve_complaint(resolve(""))
            .expect_err("no note")
            .code(),
        Code::ComplaintNoteRequired,
        "a resolution says what was done"
    );
    admin
        .resolve_complaint(resolve("上门紧固室外机支架 / outdoor bracket tightened"))
        .expect("resolved");
    wait_for("the resolution to reach the first dispatcher", || {
        disp.dispatch_order(ORDER)
            .is_ok_and(|o| o.complaints.first().is_some_and(|x| !x.open))
    })
    .await;
    let shown = disp.dispatch_order(ORDER).expect("order").complaints;
    let r = shown[0]
        .resolution
        .as_ref()
        .expect("resolution on the order's detail");
    assert!(
        r.in_time && r.by == "admin",
        "resolved in time by admin: {r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_reminder_becomes_an_order_once_and_a_dismissal_needs_a_reason() {
    let seeded = Seeded::start().await;
    let disp = signed_in(&seeded, "disp", "disp").await;
    let admin = signed_in(&seeded, "admin", "admin").await;
    wait_for("the demo households' reminders", || {
        disp.reminders().is_ok_and(|r| r.due.len() >= 2)
    })
    .await;
    let due = disp.reminders().expect("reminders").due;
    assert!(
        due.iter()
            .all(|r| r.category == "fridge" && r.since == Since::Purchase),
        "the demo's due reminders are the fridges never serviced; the serviced air-conditioners \
         are not due yet: {due:?}"
    );
    let first = due[0].clone();
    let request = |r: &ReminderView, reason: &str| ReminderActionRequest {
        household_id: r.household_id.clone(),
        key: r.key.clone(),
        reason: reason.into(),
    };
    let order = disp
        .order_from_reminder(request(&first, ""))
        .expect("one click: an order");
    assert!(
        order.card.order_no.starts_with("WO-"),
        "numbered: {}",
        order.card.order_no
    );
    assert_eq!(
        order.card.service_type,
        ServiceType::Maintenance,
        "a maintenance order"
    );
    assert_eq!(order.card.problem, first.task, "about the interval's task");
    let left = disp.reminders().expect("reminders").due;
    assert!(
        !left.iter().any(|r| r.key == first.key),
        "ordered: no longer due"
    );
    assert_eq!(
        disp.order_from_reminder(request(&first, ""))
            .expect_err("twice")
            .code(),
        Code::ReminderNotDue,
        "a reminder becomes one order"
    );
    let second = left[0].clone();
    assert_eq!(
        disp.dismiss_reminder(request(&second, "  "))
            .expect_err("no reason")
            .code(),
        Code::ReminderReasonRequired,
        "a dismissal says why"
    );
    let after = disp
        .dismiss_reminder(request(&second, "客户已更换新冰箱 / fridge replaced"))
        .expect("dismissed");
    assert!(
        !after.due.iter().any(|r| r.key == second.key),
        "dismissed: gone"
    );
    wait_for("both to reach the other dispatcher", || {
        admin.reminders().is_ok_and(|r| {
            !r.due
                .iter()
                .any(|x| x.key == first.key || x.key == second.key)
        }) && admin.dispatch_order(&order.card.order_id).is_ok()
    })
    .await;
}

/// The Follow-ups and Reminders lists export like every console table: CSV (with BOM) and XLSX,
/// one row per call or reminder the screen lists, in the screen's order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_follow_up_and_reminder_lists_export_as_csv_and_xlsx() {
    use calamine::{Reader, Xlsx, open_workbook_from_rs};
    let seeded = Seeded::start().await;
    let out = tempfile::tempdir().expect("temp dir");
    let disp = signed_in(&seeded, "disp", "disp")
        .await
        .with_export_dir(out.path().to_owned());
    wait_for("the follow-ups and reminders of the seed", || {
        disp.follow_ups().is_ok_and(|f| !f.follow_ups.is_empty())
            && disp.reminders().is_ok_and(|r| !r.due.is_empty())
    })
    .await;
    let calls = disp.follow_ups().expect("follow-ups").follow_ups;
    let due = disp.reminders().expect("reminders").due;
    let export = |table, format, language: &str| {
        disp.export_table(ExportRequest {
            table,
            technician_id: None,
            format,
            language: language.to_owned(),
        })
        .expect("exported")
    };

    let csv = export(ExportTableKind::FollowUps, ExportFormat::Csv, "zh-CN");
    let text = std::fs::read_to_string(&csv.path).expect("the saved CSV");
    assert!(
        text.starts_with('\u{feff}'),
        "a BOM so Excel reads Chinese text"
    );
    let lines: Vec<&str> = text.trim_end().lines().collect();
    assert!(lines[0].contains("工单号"), "zh-CN headers: {}", lines[0]);
    assert_eq!(
        lines.len(),
        calls.len() + 1,
        "one row per call on the screen"
    );
    assert!(
        lines[1].starts_with(&calls[0].order_no),
        "in the screen's order: {}",
        lines[1]
    );
    assert_eq!(csv.rows as usize, calls.len(), "the answer counts the rows");

    let xlsx = export(ExportTableKind::Reminders, ExportFormat::Xlsx, "en");
    let bytes = std::fs::read(&xlsx.path).expect("the saved XLSX");
    let mut book: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("an XLSX");
    let sheet = book.sheet_names()[0].clone();
    let cells = book.worksheet_range(&sheet).expect("the sheet");
    assert_eq!(cells.height(), due.len() + 1, "one row per due reminder");
    assert_eq!(
        cells.get((0, 0)).map(ToString::to_string).as_deref(),
        Some("Due"),
        "English headers"
    );
    assert_eq!(
        cells.get((1, 0)).map(ToString::to_string).as_deref(),
        Some(due[0].due_date.as_str()),
        "the first reminder's due date"
    );
    assert_eq!(
        cells.get((1, 6)).and_then(calamine::DataType::as_i64),
        Some(i64::from(due[0].months)),
        "the interval is a number, not text"
    );
}
