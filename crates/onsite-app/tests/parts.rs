//! Parts issue and return (领料 / 退料) from the dispatcher's device against a seeded relay on
//! 127.0.0.1: issue, return, adjust and the faulty part taken out on site, every refusal with its
//! code and without a trace, the low-stock flags, and the technician's device receiving the issue.

use onsite_app::view::*;
use onsite_app::{App, LOW_STOCK_THRESHOLD};
use onsite_domain::Code;
mod common;

use common::signed_in;
use onsite_testkit::relay::{Seeded, wait_for};

fn req(part_no: &str, qty: i64, note: &str) -> StockMoveRequest {
    StockMoveRequest {
        technician_id: "tech.a".into(),
        part_no: part_no.into(),
        qty,
        note: note.into(),
    }
}

fn on_hand(view: &TechnicianStockView, part_no: &str) -> i64 {
    view.lines
        .iter()
        .find(|l| l.part_no == part_no)
        .map_or(0, |l| l.on_hand)
}

/// The dispatcher's device with both technicians' ledgers synced.
async fn dispatcher(seeded: &Seeded) -> App {
    let disp = signed_in(&seeded.dir.path().join("disp"), &seeded.url, "disp").await;
    wait_for("both technicians' ledgers to reach the dispatcher", || {
        disp.stock_overview()
            .map(|o| o.technicians.len() == 2)
            .unwrap_or(false)
    })
    .await;
    disp
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dispatcher_issues_returns_and_adjusts_and_bad_input_changes_nothing() {
    let seeded = Seeded::start().await;
    let disp = dispatcher(&seeded).await;
    let overview = disp.stock_overview().expect("overview");
    assert_eq!(
        overview
            .technicians
            .iter()
            .map(|t| (t.technician_id.as_str(), t.low_count))
            .collect::<Vec<_>>(),
        [("tech.a", 1), ("tech.b", 1)],
        "the seed issues one drain pump each, below the threshold of {LOW_STOCK_THRESHOLD}"
    );
    let start = disp.technician_stock("tech.a").expect("stock of tech.a");
    assert_eq!(
        start.technician_name, "张师傅 Zhang",
        "named from the profile"
    );
    assert_eq!(on_hand(&start, "AC-CAP-35UF"), 4, "seeded issue");
    let pump = start.lines.iter().find(|l| l.part_no == "WM-DRAIN-PUMP");
    assert!(
        pump.is_some_and(|l| l.low && !l.negative),
        "one pump is low: {pump:?}"
    );

    let issued = disp
        .issue_parts(req("WM-DRAIN-PUMP", 3, "领料"))
        .expect("issue 3 pumps");
    assert_eq!(on_hand(&issued, "WM-DRAIN-PUMP"), 4, "1 + 3");
    assert_eq!(issued.low_count, 0, "nothing is low any more");
    assert_eq!(
        issued.entries[0].kind,
        StockMoveKind::Issued,
        "newest first"
    );
    assert_eq!(issued.entries[0].by, "disp", "recorded by the dispatcher");

    let returned = disp
        .return_parts(req("AC-CAP-35UF", 3, ""))
        .expect("return 3");
    assert_eq!(on_hand(&returned, "AC-CAP-35UF"), 1, "4 − 3");
    assert!(
        returned
            .lines
            .iter()
            .any(|l| l.part_no == "AC-CAP-35UF" && l.low)
    );
    assert_eq!(returned.entries[0].delta, -3, "a return is negative");

    let adjusted = disp
        .adjust_stock(req("GEN-FUSE-10A", -2, "盘点 / stock-take found 8"))
        .expect("adjust with a reason");
    assert_eq!(on_hand(&adjusted, "GEN-FUSE-10A"), 8, "10 − 2");

    let refusals = [
        (
            "issue 0",
            disp.issue_parts(req("WH-ANODE", 0, "")),
            Code::InputBadQuantity,
        ),
        (
            "unknown part",
            disp.issue_parts(req("NOPE-1", 1, "")),
            Code::PartsUnknownPart,
        ),
        (
            "return more than held",
            disp.return_parts(req("AC-CAP-35UF", 2, "")),
            Code::PartsMoreThanHeld,
        ),
        (
            "adjust without reason",
            disp.adjust_stock(req("GEN-FUSE-10A", 1, " ")),
            Code::InputEmpty,
        ),
        (
            "no such technician",
            disp.issue_parts(StockMoveRequest {
                technician_id: "tech.nobody".into(),
                ..req("WH-ANODE", 1, "")
            }),
            Code::DocumentNotFound,
        ),
    ];
    for (what, result, code) in refusals {
        let err = result.expect_err(what);
        assert_eq!(err.code(), code, "{what}: {err}");
    }
    assert_eq!(
        disp.technician_stock("tech.a").expect("stock"),
        adjusted,
        "no refusal left a trace"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_faulty_part_from_site_comes_back_by_serial_and_the_technician_sees_the_issue() {
    let seeded = Seeded::start().await;
    let tech = signed_in(&seeded.dir.path().join("tech"), &seeded.url, "tech.a").await;
    wait_for("the technician's day to sync", || {
        tech.today().map(|t| !t.orders.is_empty()).unwrap_or(false)
    })
    .await;
    let oid = "o-00000";
    let detail = tech
        .apply_edit(
            oid,
            EditRequest::AddPart {
                part_no: "AC-CAP-35UF".into(),
                qty: 1,
                faulty_serial: "CAP-BURNT-42".into(),
                replacement_serial: String::new(),
                source: StockSourceView::Personal,
            },
        )
        .expect("the technician records the capacitor replaced on site");
    assert_eq!(detail.parts.len(), 1, "one part line");

    let disp = dispatcher(&seeded).await;
    wait_for(
        "the visit with the part line to reach the dispatcher",
        || {
            disp.technician_stock("tech.a")
                .map(|s| on_hand(&s, "AC-CAP-35UF") == 3)
                .unwrap_or(false)
        },
    )
    .await;
    let faulty = |serial: &str| FaultyReturnRequest {
        technician_id: "tech.a".into(),
        order_id: oid.into(),
        serial: serial.into(),
        note: "退料 / faulty".into(),
    };
    let awaited = disp.technician_stock("tech.a").expect("stock");
    let line = awaited
        .awaiting_faulty
        .iter()
        .find(|a| a.order_id == oid)
        .expect("the capacitor taken out on site is awaited");
    assert_eq!(
        (
            line.serial.as_str(),
            line.part_no.as_str(),
            line.order_no.as_str()
        ),
        ("CAP-BURNT-42", "AC-CAP-35UF", "WO-00000"),
        "with what the return form needs and the order's number"
    );
    let err = disp.return_faulty_part(faulty("CAP-OTHER")).unwrap_err();
    assert_eq!(err.code(), Code::PartsFaultySerialUnmatched, "{err}");
    let back = disp
        .return_faulty_part(faulty("CAP-BURNT-42"))
        .expect("matched by serial");
    assert_eq!(back.faulty_returns.len(), 1, "recorded");
    assert_eq!(
        back.faulty_returns[0].part_no, "AC-CAP-35UF",
        "from the part line"
    );
    assert_eq!(
        back.faulty_returns[0].order_no, "WO-00000",
        "named by its order"
    );
    assert!(
        back.awaiting_faulty.iter().all(|a| a.order_id != oid),
        "no longer awaited once back"
    );
    assert_eq!(
        on_hand(&back, "AC-CAP-35UF"),
        3,
        "a faulty return is not stock"
    );
    let again = disp.return_faulty_part(faulty("CAP-BURNT-42")).unwrap_err();
    assert_eq!(again.code(), Code::PartsFaultyAlreadyReturned, "{again}");

    disp.issue_parts(req("WH-ANODE", 2, "领料"))
        .expect("issue anodes");
    wait_for("the issue to reach the technician's stock", || {
        tech.parts_and_stock()
            .map(|p| {
                p.parts
                    .iter()
                    .any(|s| s.part_no == "WH-ANODE" && s.on_hand == 2)
            })
            .unwrap_or(false)
    })
    .await;
    let refused = tech.issue_parts(req("WH-ANODE", 5, "")).unwrap_err();
    assert_eq!(
        refused.code(),
        Code::ConsoleDispatcherOnly,
        "a technician cannot issue parts to themself: {refused}"
    );
    assert_eq!(
        tech.technician_stock("tech.a").unwrap_err().code(),
        Code::ConsoleDispatcherOnly,
        "the dispatcher's stock view is the dispatcher's"
    );
}
