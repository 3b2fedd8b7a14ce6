//! The app's commands against a real relay on 127.0.0.1: sign in, sync the day, do a whole Haier
//! repair job through the UI's requests, sign, and see the completion arrive at the relay.

mod common;

use common::{open, signed_in};

use std::io::Cursor;
use std::path::Path;

use base64::Engine as _;
use onsite_app::view::*;
use onsite_domain::completion::MissingKind;
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, HOUR};
use onsite_relay::{Config, RunningRelay, SqliteStorage};
use onsite_testkit::relay::wait_for;
use onsite_testkit::{DAY, PASSWORD};

async fn relay(dir: &Path) -> RunningRelay {
    let db = dir.join("relay.sqlite3");
    let storage = SqliteStorage::open(&db).expect("open relay database");
    let day = DAY;
    onsite_relay::seed::seed_demo(
        &storage,
        &Config::for_database(&db),
        PASSWORD,
        4,
        day,
        day + 7 * HOUR,
    )
    .expect("seed the demo company");
    drop(storage);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    onsite_relay::start(Config::for_database(&db), listener)
        .await
        .expect("relay starts")
}

fn png(w: u32, h: u32, ink: bool) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(w, h, |x, y| {
        if ink
            && (y as i64 - (h as i64 / 2) - ((x as i64 / 7) % 9 - 4)).abs() < 3
            && x > 10
            && x < w - 10
        {
            image::Rgba([0, 0, 0, 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        }
    });
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("encode PNG");
    out
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn answer(t: &str, item: &str, outcome: OutcomeView, note: &str) -> EditRequest {
    EditRequest::Answer {
        template_id: t.into(),
        item_id: item.into(),
        outcome,
        note: note.into(),
    }
}

fn reading(value: f64, unit: &str) -> OutcomeView {
    OutcomeView::Reading {
        value,
        unit: unit.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repair_job_from_today_to_signed_reaches_the_relay() {
    let dir = tempfile::tempdir().expect("temp dir");
    let relay = relay(dir.path()).await;
    let app = signed_in(&dir.path().join("tech"), &relay.url(), "tech.a").await;

    wait_for("today's orders to sync", || {
        app.today().map(|t| !t.orders.is_empty()).unwrap_or(false)
    })
    .await;
    let today = app.today().expect("today");
    let starts: Vec<_> = today.orders.iter().map(|o| o.window_start_ms).collect();
    let mut sorted = starts.clone();
    sorted.sort();
    assert_eq!(starts, sorted, "Today lists orders by schedule");
    let card = today
        .orders
        .iter()
        .find(|o| o.service_type == onsite_domain::reference::ServiceType::Repair)
        .expect("a repair order for tech.a")
        .clone();
    let oid = card.order_id.clone();

    let detail = app.order_detail(&oid).expect("order detail");
    assert!(
        !detail.preferences.is_empty(),
        "preferences are shown before the visit"
    );
    assert_eq!(detail.appliances.iter().filter(|a| a.this_order).count(), 1);
    assert_eq!(
        detail.checklists.len(),
        2,
        "the service type's template plus haier-12345"
    );
    assert!(
        detail
            .missing
            .iter()
            .any(|m| m.code == MissingKind::WorkNotDone)
    );

    let refused = app
        .apply_edit(
            &oid,
            EditRequest::Progress {
                step: Step::WorkDone,
            },
        )
        .unwrap_err();
    assert_eq!(
        refused.code(),
        "progress.invalid_transition",
        "work cannot be done before arriving"
    );

    let h = "haier-12345";
    for e in [
        EditRequest::Progress {
            step: Step::EnRoute,
        },
        EditRequest::Progress {
            step: Step::Arrived,
        },
        answer(h, "cert.shown", OutcomeView::Done, ""),
        answer(h, "card.given", OutcomeView::Done, ""),
        answer(h, "shoe.covers", OutcomeView::Done, ""),
        answer(h, "mat.laid", OutcomeView::Done, ""),
        answer(h, "cloth.brought", OutcomeView::Done, ""),
        EditRequest::Progress {
            step: Step::WorkStarted,
        },
        answer(
            "repair",
            "repair.symptom",
            OutcomeView::Done,
            "capacitor bulged",
        ),
        answer("repair", "repair.fault_photo", OutcomeView::Done, ""),
        answer("repair", "repair.supply_voltage", reading(223.0, "V"), ""),
        answer("repair", "repair.insulation", reading(120.0, "MΩ"), ""),
        EditRequest::AddPart {
            part_no: "AC-CAP-35UF".into(),
            qty: 1,
            faulty_serial: "CAP-OLD-1".into(),
            replacement_serial: String::new(),
            source: StockSourceView::Personal,
        },
        answer("repair", "repair.part_replaced", OutcomeView::Done, ""),
        answer("repair", "repair.run_test", OutcomeView::Pass, ""),
        EditRequest::AddFee {
            code: "labour.repair.minor".into(),
            qty: 1,
        },
        EditRequest::AddFee {
            code: "visit".into(),
            qty: 1,
        },
        answer(h, "fees.published", OutcomeView::Done, ""),
        answer(h, "power.tested", OutcomeView::Pass, ""),
        answer(h, "site.cleaned", OutcomeView::Done, ""),
        EditRequest::AddHomeCheck {
            appliance: "fridge".into(),
            result: onsite_domain::visit::CheckResult::Ok,
            note: String::new(),
        },
        answer(h, "home.check", OutcomeView::Done, ""),
        EditRequest::SetNotes {
            diagnosis: "run capacitor".into(),
            work_performed: "replaced capacitor".into(),
        },
        EditRequest::Progress {
            step: Step::WorkDone,
        },
    ] {
        app.apply_edit(&oid, e.clone())
            .unwrap_or_else(|err| panic!("{e:?} refused: {err}"));
    }

    let out_of_range = app
        .apply_edit(
            &oid,
            answer("repair", "repair.supply_voltage", reading(260.0, "V"), ""),
        )
        .unwrap_err();
    assert_eq!(out_of_range.code(), "checklist.out_of_range_needs_note");

    let not_photo = app
        .add_photo(PhotoRequest {
            order_id: oid.clone(),
            template_id: "repair".into(),
            item_id: "repair.fault_photo".into(),
            bytes_base64: b64(b"not an image"),
        })
        .unwrap_err();
    assert_eq!(not_photo.code(), "attachment.not_an_image");

    // Signing is refused with the precise list while the photo, confirmations and rating are missing.
    let signature = b64(&png(300, 120, true));
    let err = app
        .sign(SignRequest {
            order_id: oid.clone(),
            signer_name: "张伟".into(),
            png_base64: signature.clone(),
        })
        .unwrap_err();
    let err: CommandError = err.into();
    assert_eq!(err.code, "completion.incomplete");
    let photo = err
        .missing
        .iter()
        .find(|m| m.code == MissingKind::PhotoMissing)
        .expect("the missing photo is listed");
    assert_eq!(
        photo.label_en.as_deref(),
        Some("Photo of the faulty part"),
        "missing entries carry the item label"
    );
    assert!(
        err.missing
            .iter()
            .any(|m| m.code == MissingKind::ConfirmationMissing)
    );
    assert!(
        err.missing
            .iter()
            .any(|m| m.code == MissingKind::RatingMissing)
    );

    let d = app
        .add_photo(PhotoRequest {
            order_id: oid.clone(),
            template_id: "repair".into(),
            item_id: "repair.fault_photo".into(),
            bytes_base64: b64(&png(16, 16, true)),
        })
        .expect("photo stored and attached");
    let repair = d
        .checklists
        .iter()
        .find(|c| c.template_id == "repair")
        .expect("repair checklist");
    assert_eq!(
        repair.required_done, repair.required_total,
        "every required repair item is done"
    );
    for c in [
        ConfirmationView::UsageExplained,
        ConfirmationView::NoWater,
        ConfirmationView::NoSmoke,
        ConfirmationView::NoMeal,
        ConfirmationView::NoGift,
    ] {
        app.apply_edit(
            &oid,
            EditRequest::Confirm {
                confirmation: c,
                value: true,
            },
        )
        .expect("confirm");
    }
    let d = app
        .apply_edit(
            &oid,
            EditRequest::Rate {
                stars: 5,
                comment: "很专业".into(),
            },
        )
        .expect("rate");
    assert!(d.missing.is_empty(), "ready to sign: {:?}", d.missing);

    let blank = app
        .sign(SignRequest {
            order_id: oid.clone(),
            signer_name: "张伟".into(),
            png_base64: b64(&png(300, 120, false)),
        })
        .unwrap_err();
    assert_eq!(blank.code(), "signature.empty", "a blank pad is refused");
    assert_eq!(
        app.save_record_pdf(&oid, None, "zh-CN")
            .await
            .unwrap_err()
            .code(),
        "record.not_signed",
        "there is no record document before the customer signs"
    );

    let signed = app
        .sign(SignRequest {
            order_id: oid.clone(),
            signer_name: "张伟".into(),
            png_base64: signature,
        })
        .expect("customer signs");
    let s = signed.signed.clone().expect("signed");
    assert_eq!(s.record_hash.len(), 64);
    let frozen = app
        .apply_edit(
            &oid,
            EditRequest::SetNotes {
                diagnosis: "x".into(),
                work_performed: "y".into(),
            },
        )
        .unwrap_err();
    assert_eq!(frozen.code(), "record.frozen", "signing freezes the record");

    // The record document: HTML on screen, PDF saved for printing or sending.
    let html = app
        .record_html(&oid, None, "zh-CN")
        .await
        .expect("record html");
    assert!(
        html.contains(&s.record_hash) && html.contains("张伟"),
        "the record page carries the signed hash and the signer"
    );
    let saved = app
        .save_record_pdf(&oid, None, "en")
        .await
        .expect("save the record PDF");
    let bytes = std::fs::read(&saved.path).expect("the saved PDF is on disk");
    assert!(bytes.starts_with(b"%PDF-"), "the saved file is a PDF");
    assert_eq!(bytes.len() as u64, saved.bytes);
    assert!(saved.pages >= 1);
    assert_eq!(
        saved.record_hash, s.record_hash,
        "the PDF is of the signed record"
    );
    assert!(
        saved.file_name.starts_with(&format!("{}-", card.order_no))
            && saved.file_name.ends_with("-en.pdf"),
        "the file is named after the order and language: {}",
        saved.file_name
    );
    let records = dir.path().join("tech/records");
    let names: Vec<_> = std::fs::read_dir(&records)
        .expect("records folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec![saved.file_name.clone()],
        "no partial file is left behind"
    );
    assert_eq!(
        app.save_record_pdf("no-such-order", None, "en")
            .await
            .unwrap_err()
            .code(),
        "order.not_found"
    );
    // A save that cannot complete reports it and leaves the earlier file whole.
    let blocker = records.join(format!(".{}.part", saved.file_name));
    std::fs::create_dir(&blocker).expect("block the partial file");
    let e = app.save_record_pdf(&oid, None, "en").await.unwrap_err();
    assert_eq!(e.code(), "record.export_failed", "{e}");
    assert_eq!(
        std::fs::read(&saved.path).expect("earlier PDF"),
        bytes,
        "a failed save never damages the file already saved"
    );
    std::fs::remove_dir(&blocker).expect("unblock");

    // The completion reaches the relay: a dispatcher device sees the signed visit.
    app.sync_now().expect("sync now");
    wait_for("the signed visit to sync", || {
        app.order_detail(&oid)
            .map(|d| !d.pending_sync)
            .unwrap_or(false)
    })
    .await;
    let disp = signed_in(&dir.path().join("disp"), &relay.url(), "disp").await;
    let vid = DocId::visit(&oid, "tech.a");
    wait_for("the dispatcher to receive the visit", || {
        let store = disp.store().lock().expect("store");
        store.contains(&vid).unwrap_or(false)
            && store
                .read::<Visit>(&vid)
                .map(|v| v.is_signed())
                .unwrap_or(false)
    })
    .await;
    let v: Visit = disp
        .store()
        .lock()
        .expect("store")
        .read(&vid)
        .expect("visit");
    assert_eq!(
        v.signature.expect("signature").record_hash,
        s.record_hash,
        "the relay has the same signed record"
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_certificate_fees_and_stock_work_offline_after_one_sign_in() {
    let dir = tempfile::tempdir().expect("temp dir");
    let relay = relay(dir.path()).await;
    let url = relay.url();
    let data = dir.path().join("tech");
    let app = signed_in(&data, &url, "tech.a").await;
    wait_for("reference data to sync", || {
        app.parts_and_stock().is_ok() && app.certificate().is_ok() && app.fee_schedule().is_ok()
    })
    .await;
    relay.stop().await;
    drop(app);

    // Reopened with the relay gone: everything still answers from the device.
    let app = open(&data);
    assert!(
        app.session().expect("session").is_some(),
        "the session is kept on the device"
    );
    assert!(!app.sync_status().expect("status").online);
    let cert = app.certificate().expect("certificate");
    assert_eq!(cert.certificate_id, "CERT-HA-0001");
    assert!(
        cert.qr_text
            .starts_with(&format!("{url}/verify/cert/CERT-HA-0001/")),
        "the QR code encodes the relay's signed certificate page, kept from the sign-in: {}",
        cert.qr_text
    );
    assert!(
        cert.qr_svg.starts_with("<?xml") || cert.qr_svg.contains("<svg"),
        "QR code is an SVG"
    );
    assert!(cert.valid);
    let fees = app.fee_schedule().expect("fees");
    assert!(
        fees.items
            .iter()
            .any(|f| f.code == "visit" && f.unit_price_cents == 3000)
    );
    let parts = app.parts_and_stock().expect("parts");
    let cap = parts
        .parts
        .iter()
        .find(|p| p.part_no == "AC-CAP-35UF")
        .expect("capacitor");
    assert_eq!(cap.on_hand, 4, "issued stock shows on hand");
    assert_eq!(app.settings().expect("settings").language, None);
    app.set_language("zh-CN").expect("set language");
    assert_eq!(
        app.settings().expect("settings").language.as_deref(),
        Some("zh-CN")
    );
    assert_eq!(
        app.set_language("fr").unwrap_err().code(),
        "settings.unsupported_language"
    );
    assert!(
        !app.today().expect("today").orders.is_empty(),
        "today works offline"
    );
}

#[test]
fn commands_before_sign_in_say_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = open(dir.path());
    assert_eq!(app.session().expect("session"), None);
    assert_eq!(app.today().unwrap_err().code(), "auth.not_signed_in");
    let e: CommandError = app.order_detail("o-1").unwrap_err().into();
    assert_eq!(e.code, "auth.not_signed_in");
    assert!(!e.message.is_empty());
}
