//! Records the browser tests' IPC answers from the real app: each script below drives [`App`]
//! against a seeded relay on 127.0.0.1 exactly as the UI would in one browser scenario
//! (`ui/tests/browser/run.mjs`), and writes every command's request and real answer — refusals
//! included — to `ui/tests/fixtures/<script>.json`. The browser mock replays them and computes
//! nothing, so a browser test can only pass on rules the product has.
//!
//! The answers are deterministic: a fixed seed day, a clock that moves one minute per edit, ids
//! from a counter, the device time zone fixed to UTC+8. What is left of the machine (the relay's
//! port, the device id, the temp folder, the wall-clock time of the first sync) is replaced by
//! fixed values before writing. Like the ts-rs bindings, the committed files must be fresh:
//! `UPDATE_FIXTURES=1 cargo test -p onsite-app --test fixtures` rewrites them, otherwise the test
//! fails when they differ.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::time::Duration;

use base64::Engine as _;
use onsite_app::view::*;
use onsite_app::{App, AppError, SyncConfig};
use onsite_domain::completion::MissingKind;
use onsite_domain::order::Tier;
use onsite_domain::reference::{ServiceType, TechnicianProfile};
use onsite_domain::resolve::ResolutionAction;
use onsite_domain::stats::Month;
use onsite_domain::status::EffectiveStatus;
use onsite_domain::visit::CheckResult;
use onsite_domain::{DocId, HOUR, MINUTE, Millis};
use onsite_relay::RunningRelay;
use onsite_testkit::PASSWORD;
use onsite_testkit::relay::{seeded_database, start_relay, wait_for};
use serde::Serialize;
use serde_json::{Value, json};

/// Midnight of 2026-11-30 in China (UTC+8), the seed's day.
const DAY: Millis = 1_795_968_000_000;
/// The relay address the answers show (the relay's default port) instead of the test's port.
const RELAY_URL: &str = "http://127.0.0.1:8750";
/// The export folder the answers show instead of the test's temp folder.
const EXPORT_DIR: &str = "/home/tech/Documents/Onsite";
const DEVICE_ID: &str = "device-1";
const ORDER: &str = "o-00000";
const HAIER: &str = "haier-12345";
const CONFIRMATIONS: [ConfirmationView; 5] = [
    ConfirmationView::UsageExplained,
    ConfirmationView::NoWater,
    ConfirmationView::NoSmoke,
    ConfirmationView::NoMeal,
    ConfirmationView::NoGift,
];

/// The demo company's relay, seeded for [`DAY`], on a fresh 127.0.0.1 port.
async fn relay(dir: &Path) -> RunningRelay {
    let db = seeded_database(dir, DAY);
    start_relay(&db, "127.0.0.1:0".parse().expect("address")).await
}

/// The app on the device folder `dir`, with the script's clock and ids.
fn open_app(dir: &Path, clock: &Arc<AtomicI64>, counter: &Arc<AtomicU32>, export: &Path) -> App {
    let now = clock.clone();
    let counter = counter.clone();
    let day = Duration::from_secs(24 * 3600);
    let app = App::open(dir, Arc::new(move || now.load(Ordering::SeqCst)))
        .expect("open the app")
        .with_ids(Arc::new(move || {
            format!("id-{:03}", counter.fetch_add(1, Ordering::SeqCst) + 1)
        }))
        .with_utc_offset_minutes(480)
        .with_export_dir(export.to_owned())
        // Sync only when asked, so nothing races the recording.
        .with_sync_config(SyncConfig {
            debounce: day,
            backoff_min: day,
            backoff_max: day,
            poll_every: day,
            ..SyncConfig::default()
        });
    // The recorded relay's data is stamped on the tests' day, the relay's window measured from
    // the real clock: the recorded devices hold the whole history.
    app.set_history_window(0).expect("hold the whole history");
    app
}

/// One browser scenario's commands against a fresh device, and their answers.
struct Script {
    name: &'static str,
    /// Who signs in: a technician, or the dispatcher for the console's scripts.
    user: &'static str,
    app: App,
    clock: Arc<AtomicI64>,
    counter: Arc<AtomicU32>,
    exchanges: Vec<Value>,
    relay_url: String,
    export_dir: PathBuf,
    _dir: tempfile::TempDir,
}

impl Script {
    async fn start(name: &'static str, relay_url: &str) -> Script {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(AtomicI64::new(DAY + 10 * HOUR));
        let counter = Arc::new(AtomicU32::new(0));
        let export_dir = dir.path().join("Documents");
        let app = open_app(dir.path(), &clock, &counter, &export_dir);
        Script {
            name,
            user: "tech.a",
            app,
            clock,
            counter,
            exchanges: Vec::new(),
            relay_url: relay_url.to_owned(),
            export_dir,
            _dir: dir,
        }
    }

    /// Keep one exchange; returns the answer for the script to check.
    fn keep<T: Serialize>(
        &mut self,
        cmd: &str,
        args: Value,
        result: Result<T, AppError>,
    ) -> Result<T, CommandError> {
        let (entry, result) = match result {
            Ok(v) => (json!({ "cmd": cmd, "args": args, "ok": v }), Ok(v)),
            Err(e) => {
                let e = CommandError::from(e);
                (json!({ "cmd": cmd, "args": args, "err": e }), Err(e))
            }
        };
        self.exchanges.push(entry);
        result
    }

    /// A query the UI makes, with its arguments as the UI names them; it must answer.
    fn query<T: Serialize>(&mut self, cmd: &str, args: Value, result: Result<T, AppError>) -> T {
        self.keep(cmd, args, result)
            .unwrap_or_else(|e| panic!("{cmd} answers: {e:?}"))
    }

    /// A command that changes something: the clock moves on one minute first.
    fn tick(&self) {
        self.clock.fetch_add(MINUTE, Ordering::SeqCst);
    }

    fn settings(&mut self) {
        let r = self.app.settings();
        self.keep("settings", json!({}), r).expect("settings");
    }

    fn session(&mut self) {
        let r = self.app.session();
        self.keep("session", json!({}), r).expect("session");
    }

    /// What the app asks when it starts with a session (the browser's page load).
    fn startup(&mut self) {
        self.settings();
        self.sync_status();
        self.session();
        self.handover_lock();
    }

    /// Quit and start the app again on the same device folder, then its start-up queries.
    fn restart(&mut self) {
        let dir = self._dir.path().to_owned();
        self.app.stop_sync();
        let fresh = open_app(&dir, &self.clock, &self.counter, &self.export_dir);
        drop(std::mem::replace(&mut self.app, fresh));
        self.startup();
    }

    fn sign_in_form(&mut self) {
        let r = self.app.sign_in_form();
        self.keep("sign_in_form", json!({}), r)
            .expect("sign-in form");
    }

    fn handover_lock(&mut self) -> HandoverLock {
        let r = self.app.handover_lock();
        self.keep("handover_lock", json!({}), r)
            .expect("hand-over lock")
    }

    fn lock_handover(&mut self) -> HandoverLock {
        self.tick();
        let r = self.app.lock_handover(ORDER);
        self.keep("lock_handover", json!({ "orderId": ORDER }), r)
            .expect("hand the device over")
    }

    fn unlock_handover(&mut self) -> HandoverLock {
        self.tick();
        let r = self.app.unlock_handover();
        self.keep("unlock_handover", json!({}), r)
            .expect("take the device back")
    }

    fn drafts(&mut self) -> Vec<DraftView> {
        let r = self.app.drafts(ORDER);
        self.keep("drafts", json!({ "orderId": ORDER }), r)
            .expect("drafts")
    }

    fn save_draft(&mut self, field: DraftField, text: &str) {
        self.tick();
        let request = DraftRequest {
            order_id: ORDER.to_owned(),
            field,
            text: text.to_owned(),
        };
        let r = self.app.save_draft(request.clone());
        self.keep("save_draft", json!({ "request": request }), r)
            .expect("draft kept");
    }

    /// Opening the order screen: its detail and the drafts kept for it.
    fn open_order(&mut self) -> OrderDetail {
        let d = self.detail();
        self.drafts();
        d
    }

    fn sync_status(&mut self) {
        let r = self.app.sync_status().map(|mut s| {
            // The sync task stamps its own wall-clock time; show the device clock instead.
            s.last_synced_ms = s.last_synced_ms.map(|_| self.clock.load(Ordering::SeqCst));
            s
        });
        self.keep("sync_status", json!({}), r).expect("sync status");
    }

    fn today(&mut self) -> Today {
        let r = self.app.today();
        self.keep("today", json!({}), r).expect("today")
    }

    fn detail(&mut self) -> OrderDetail {
        let r = self.app.order_detail(ORDER);
        self.keep("order_detail", json!({ "orderId": ORDER }), r)
            .expect("order detail")
    }

    async fn sign_in(&mut self, password: &str) -> Result<Session, CommandError> {
        self.tick();
        let request = SignInRequest {
            relay_url: self.relay_url.clone(),
            user: self.user.to_owned(),
            password: password.to_owned(),
            allow_plain_http: false,
        };
        let r = self.app.sign_in(request.clone()).await;
        // The UI's relay address is not part of the key (see mock-backend.ts).
        let args = json!({ "request": {
            "user": request.user,
            "password": request.password,
            "allow_plain_http": request.allow_plain_http,
        } });
        self.keep("sign_in", args, r)
    }

    /// Before sign-in, then signed in and synced once; the background sync then stops, so every
    /// later answer depends on the script alone.
    async fn prelude(&mut self, wrong_password_first: bool) {
        self.settings();
        self.sync_status();
        self.session();
        self.sign_in_form();
        if wrong_password_first {
            let e = self.sign_in("wrong").await.expect_err("a wrong password");
            assert_eq!(
                e.code, "auth.bad_credentials",
                "the relay refuses it by code"
            );
        }
        self.sign_in(PASSWORD).await.expect("sign in");
        wait_for("the first sync", || {
            self.app
                .sync_status()
                .is_ok_and(|s| s.last_synced_ms.is_some())
        })
        .await;
        self.session();
        self.sync_status();
        self.app.stop_sync();
        self.pin_relay_url();
        // A browser scenario may also start here, as a restart with a session.
        self.handover_lock();
    }

    /// Keep the session's relay address at [`RELAY_URL`], so the record's verification link and
    /// the QR codes do not depend on the test's port or the relay's key.
    fn pin_relay_url(&self) {
        self.pin_relay_url_to(RELAY_URL);
    }

    fn pin_relay_url_to(&self, url: &str) {
        let mut store = self.app.store().lock().expect("store lock");
        let bytes = store
            .kv_get("client.session")
            .expect("read session")
            .expect("a session");
        let mut session: Value = serde_json::from_slice(&bytes).expect("session JSON");
        session["relay_url"] = json!(url);
        // The relay signs the certificate link with a key it makes at first start; the QR code
        // shows a fixed signature instead.
        if let Some(path) = session["certificate_path"].as_str() {
            let (base, _) = path.rsplit_once('/').expect("a signed certificate path");
            session["certificate_path"] = json!(format!("{base}/SIGNATURE"));
        }
        store
            .kv_set(
                "client.session",
                &serde_json::to_vec(&session).expect("JSON"),
            )
            .expect("write session");
    }

    /// Sync everything pending with the relay at `url` (the session's own address), then stop
    /// syncing again; keeps the "sync now" answer the sync bar shows afterwards.
    async fn sync_to(&mut self, url: &str) {
        self.pin_relay_url_to(url);
        assert!(self.app.start_sync(), "a session to sync");
        wait_for("the pending edit to sync", || {
            self.app
                .sync_status()
                .is_ok_and(|s| s.online && s.pending_changes == 0)
        })
        .await;
        let r = self.app.sync_now().map(|mut st| {
            st.last_synced_ms = st.last_synced_ms.map(|_| self.clock.load(Ordering::SeqCst));
            st
        });
        self.keep("sync_now", json!({}), r).expect("sync now");
        self.app.stop_sync();
    }

    fn edit(&mut self, edit: EditRequest) -> Result<OrderDetail, CommandError> {
        self.tick();
        let r = self.app.apply_edit(ORDER, edit.clone());
        self.keep("apply_edit", json!({ "orderId": ORDER, "edit": edit }), r)
    }

    fn step(&mut self, step: Step) -> Result<OrderDetail, CommandError> {
        self.edit(EditRequest::Progress { step })
    }

    fn answer(
        &mut self,
        t: &str,
        item: &str,
        outcome: OutcomeView,
        note: &str,
    ) -> Result<OrderDetail, CommandError> {
        self.edit(EditRequest::Answer {
            template_id: t.to_owned(),
            item_id: item.to_owned(),
            outcome,
            note: note.to_owned(),
        })
    }

    fn confirm_all(&mut self) {
        for c in CONFIRMATIONS {
            self.edit(EditRequest::Confirm {
                confirmation: c,
                value: true,
            })
            .expect("the customer confirms");
        }
    }

    fn sign(&mut self, signer: &str) -> Result<OrderDetail, CommandError> {
        self.tick();
        let r = self.app.sign(SignRequest {
            order_id: ORDER.to_owned(),
            signer_name: signer.to_owned(),
            png_base64: b64(&signature_png()),
        });
        // The drawn image is not part of the key (see mock-backend.ts).
        let args = json!({ "request": { "order_id": ORDER, "signer_name": signer } });
        self.keep("sign", args, r)
    }

    fn parts(&mut self) -> PartsView {
        let r = self.app.parts_and_stock();
        let parts = self.keep("parts_and_stock", json!({}), r).expect("parts");
        for p in &parts.parts {
            self.stock_after_use(&p.part_no, 1);
        }
        parts
    }

    fn stock_after_use(&mut self, part_no: &str, qty: i64) -> StockAfterUseView {
        let request = StockUseRequest {
            part_no: part_no.to_owned(),
            qty,
            source: StockSourceView::Personal,
        };
        let r = self.app.stock_after_use(request.clone());
        self.keep("stock_after_use", json!({ "request": request }), r)
            .expect("stock preview")
    }

    /// The fixture as written: machine-specific values replaced by fixed ones.
    fn finish(self) -> (String, String) {
        let device_id = self
            .app
            .store()
            .lock()
            .expect("store lock")
            .device_id()
            .to_owned();
        // The relay hands each device a random order-number prefix; the answers show a fixed one.
        let prefix = onsite_client::Session::load(self.app.store())
            .expect("read the session")
            .and_then(|s| s.order_prefix)
            .map(|p| (format!("-{p}-"), "-DSP1-".to_owned()));
        // One exchange per line: small, and a changed answer shows as a changed line.
        let lines: Vec<String> = self.exchanges.iter().map(Value::to_string).collect();
        let text = format!(
            "{{\"script\": {},\n\"exchanges\": [\n{}\n]}}",
            json!(self.name),
            lines.join(",\n")
        )
        .replace(&self.relay_url, RELAY_URL)
        .replace(&self.export_dir.display().to_string(), EXPORT_DIR)
        .replace(&device_id, DEVICE_ID);
        let text = match prefix {
            Some((from, to)) => text.replace(&from, &to),
            None => text,
        };
        (format!("{}.json", self.name), text + "\n")
    }
}

fn png(w: u32, h: u32, ink: bool) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(w, h, |x, y| {
        let on_line = (y as i64 - (h as i64 / 2) - ((x as i64 / 7) % 9 - 4)).abs() < 3;
        if ink && on_line && x > 10 && x < w - 10 {
            image::Rgba([0, 0, 0, 255])
        } else {
            image::Rgba([128, 128, 128, 255 * u8::from(!ink)])
        }
    });
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("encode PNG");
    out
}

fn signature_png() -> Vec<u8> {
    png(400, 160, true)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn done() -> OutcomeView {
    OutcomeView::Done
}

/// `whole Haier repair job from Today to signed`.
async fn whole_job(s: &mut Script) {
    s.prelude(true).await;
    let today = s.today();
    assert!(
        today.orders.iter().any(|o| o.order_id == ORDER),
        "the repair order is on Today"
    );
    s.open_order();
    let e = s.step(Step::WorkStarted).expect_err("work before arriving");
    assert_eq!(
        e.code, "progress.invalid_transition",
        "refused by the progress rules"
    );
    for step in [Step::EnRoute, Step::Arrived, Step::WorkStarted] {
        s.step(step).expect("next step");
    }
    let notes = "Replaced run capacitor; cooling restored";
    s.save_draft(DraftField::WorkPerformed, notes);
    s.edit(EditRequest::SetNotes {
        diagnosis: String::new(),
        work_performed: notes.to_owned(),
    })
    .expect("notes");
    assert!(
        s.drafts().is_empty(),
        "committing the notes dropped their draft"
    );
    let r = s.app.certificate();
    s.keep("certificate", json!({}), r).expect("certificate");
    s.answer(HAIER, "cert.shown", done(), "")
        .expect("certificate shown");
    let r = s.app.fee_schedule();
    s.keep("fee_schedule", json!({}), r).expect("fees");
    for code in ["visit", "labour.repair.minor"] {
        s.edit(EditRequest::AddFee {
            code: code.to_owned(),
            qty: 1,
        })
        .expect("fee line");
    }
    s.answer(HAIER, "fees.published", done(), "")
        .expect("fees shown");
    s.parts();
    let five = s.stock_after_use("AC-CAP-35UF", 5);
    assert!(
        five.below_zero,
        "five capacitors take personal stock below zero: {five:?}"
    );
    s.edit(EditRequest::AddPart {
        part_no: "AC-CAP-35UF".to_owned(),
        qty: 1,
        faulty_serial: "OLD-123".to_owned(),
        replacement_serial: String::new(),
        source: StockSourceView::Personal,
    })
    .expect("part");
    s.parts();
    checklist(s);
    s.step(Step::WorkDone).expect("work done");
    s.lock_handover();
    handover(s);
    assert_eq!(
        s.handover_lock().order_id,
        None,
        "the customer's signature ended hand-over mode"
    );
    let r = s.app.record_html(ORDER, None, "en").await;
    s.keep(
        "record_html",
        json!({ "orderId": ORDER, "language": "en" }),
        r,
    )
    .expect("record HTML");
    let r = s.app.save_record_pdf(ORDER, None, "en").await;
    s.keep(
        "save_record_pdf",
        json!({ "orderId": ORDER, "language": "en" }),
        r,
    )
    .expect("record PDF");
    let today = s.today();
    let card = today
        .orders
        .iter()
        .find(|o| o.order_id == ORDER)
        .expect("still listed");
    assert_eq!(
        card.status,
        EffectiveStatus::Completed,
        "a signed job is completed"
    );
}

fn checklist(s: &mut Script) {
    s.open_order();
    for id in [
        "site.cleaned",
        "card.given",
        "shoe.covers",
        "mat.laid",
        "cloth.brought",
        "home.check",
    ] {
        s.answer(HAIER, id, done(), "").expect("tick");
    }
    for id in ["repair.symptom", "repair.fault_photo"] {
        s.answer("repair", id, done(), "").expect("tick");
    }
    s.edit(EditRequest::AddHomeCheck {
        appliance: "Fridge BCD-470WDPG".to_owned(),
        result: CheckResult::Ok,
        note: String::new(),
    })
    .expect("home check");
    s.answer(HAIER, "power.tested", OutcomeView::Pass, "")
        .expect("pass");
    s.answer("repair", "repair.run_test", OutcomeView::Pass, "")
        .expect("pass");
    s.tick();
    let r = s.app.add_photo(PhotoRequest {
        order_id: ORDER.to_owned(),
        template_id: "repair".to_owned(),
        item_id: "repair.fault_photo".to_owned(),
        bytes_base64: b64(&png(8, 8, false)),
    });
    let args = json!({ "request": { "order_id": ORDER, "template_id": "repair", "item_id": "repair.fault_photo" } });
    s.keep("add_photo", args, r).expect("photo");
    let volts = |value| OutcomeView::Reading {
        value,
        unit: "V".to_owned(),
    };
    let (t, v) = ("repair".to_owned(), "repair.supply_voltage".to_owned());
    let field = |f: fn(String, String) -> DraftField| f(t.clone(), v.clone());
    s.save_draft(field(reading_field), "260");
    let e = s
        .answer("repair", "repair.supply_voltage", volts(260.0), "")
        .expect_err("out of range");
    assert_eq!(
        e.code, "checklist.out_of_range_needs_note",
        "an out-of-range reading needs a note"
    );
    s.save_draft(field(note_field), "Grid voltage high; customer advised");
    s.answer(
        "repair",
        "repair.supply_voltage",
        volts(260.0),
        "Grid voltage high; customer advised",
    )
    .expect("reading with a note");
    s.save_draft(
        reading_field("repair".to_owned(), "repair.insulation".to_owned()),
        "50",
    );
    let megohm = OutcomeView::Reading {
        value: 50.0,
        unit: "MΩ".to_owned(),
    };
    s.answer("repair", "repair.insulation", megohm, "")
        .expect("reading");
    let na = |reason: &str| OutcomeView::NotApplicable {
        reason: reason.to_owned(),
    };
    let e = s
        .answer("repair", "repair.part_replaced", na(""), "")
        .expect_err("no reason");
    assert_eq!(e.code, "checklist.reason_required", "N/A needs a reason");
    s.save_draft(
        DraftField::NaReason {
            template_id: "repair".to_owned(),
            item_id: "repair.part_replaced".to_owned(),
        },
        "Capacitor logged under parts",
    );
    let d = s
        .answer(
            "repair",
            "repair.part_replaced",
            na("Capacitor logged under parts"),
            "",
        )
        .expect("N/A with a reason");
    let repair = d
        .checklists
        .iter()
        .find(|c| c.template_id == "repair")
        .expect("repair");
    assert_eq!(
        (repair.required_done, repair.required_total),
        (6, 6),
        "repair checklist complete"
    );
}

fn reading_field(template_id: String, item_id: String) -> DraftField {
    DraftField::Reading {
        template_id,
        item_id,
    }
}

fn note_field(template_id: String, item_id: String) -> DraftField {
    DraftField::Note {
        template_id,
        item_id,
    }
}

fn handover(s: &mut Script) {
    let e = s
        .sign("张伟")
        .expect_err("confirmations and rating missing");
    assert_eq!(
        e.code, "completion.incomplete",
        "signing refused by the completion rules"
    );
    assert!(
        e.missing
            .iter()
            .any(|m| m.code == MissingKind::ConfirmationMissing)
            && e.missing
                .iter()
                .any(|m| m.code == MissingKind::RatingMissing),
        "the refusal lists what is missing: {:?}",
        e.missing
    );
    s.confirm_all();
    s.edit(EditRequest::Rate {
        stars: 5,
        comment: "师傅很专业 / Very professional".to_owned(),
    })
    .expect("rating");
    let d = s.sign("张伟").expect("signed");
    assert!(d.signed.is_some(), "the visit is signed");
}

/// `completion refused while a required item is missing`.
async fn incomplete(s: &mut Script) {
    s.prelude(false).await;
    s.today();
    s.open_order();
    for step in [Step::Arrived, Step::WorkStarted, Step::WorkDone] {
        s.step(step).expect("next step");
    }
    s.lock_handover();
    s.confirm_all();
    s.edit(EditRequest::Rate {
        stars: 4,
        comment: String::new(),
    })
    .expect("rating");
    let e = s.sign("张伟").expect_err("checklist incomplete");
    assert!(
        e.missing
            .iter()
            .any(|m| m.item_id.as_deref() == Some("repair.fault_photo")),
        "the refusal names the unanswered item: {:?}",
        e.missing
    );
}

/// `language switch`.
async fn language(s: &mut Script) {
    s.prelude(false).await;
    s.today();
    s.tick();
    let r = s.app.set_language("zh-CN");
    s.keep("set_language", json!({ "language": "zh-CN" }), r)
        .expect("language kept");
    s.open_order();
    let e = s
        .step(Step::WorkDone)
        .expect_err("work done before starting");
    assert_eq!(
        e.code, "progress.invalid_transition",
        "refused by the progress rules"
    );
}

/// `offline badge`.
async fn offline(s: &mut Script) {
    s.prelude(false).await;
    s.today();
    s.open_order();
    let d = s.step(Step::EnRoute).expect("en route");
    assert!(d.pending_sync, "the edit waits for sync");
}

/// `hand-over is locked until the customer signs or a 2 s hold unlocks it`.
async fn handover_locked(s: &mut Script) {
    s.prelude(false).await;
    s.today();
    s.open_order();
    let lock = s.lock_handover();
    assert_eq!(
        lock.order_id.as_deref(),
        Some(ORDER),
        "handed over for the order"
    );
    let e = s.app.today().expect_err("lists are closed to the customer");
    assert_eq!(
        e.code(),
        "handover.locked",
        "Today is refused while handed over"
    );
    s.restart();
    assert_eq!(
        s.handover_lock().order_id.as_deref(),
        Some(ORDER),
        "a restart comes back locked on the same order"
    );
    s.detail();
    s.unlock_handover();
    s.today();
}

/// `drafts survive leaving the screen and a restart`.
async fn drafts(s: &mut Script) {
    s.prelude(false).await;
    s.today();
    s.open_order();
    s.save_draft(DraftField::Diagnosis, "Run capacitor swollen");
    s.restart();
    s.today();
    let kept = {
        s.detail();
        s.drafts()
    };
    assert!(
        kept.iter()
            .any(|d| d.field == DraftField::Diagnosis && d.text == "Run capacitor swollen"),
        "the typed diagnosis survived the restart: {kept:?}"
    );
    let (t, v) = ("repair".to_owned(), "repair.supply_voltage".to_owned());
    s.open_order();
    s.save_draft(reading_field(t.clone(), v.clone()), "23");
    s.save_draft(note_field(t.clone(), v.clone()), "measured at the socket");
    s.open_order();
    s.open_order();
    s.save_draft(reading_field(t.clone(), v.clone()), "230");
    let volts = OutcomeView::Reading {
        value: 230.0,
        unit: "V".to_owned(),
    };
    s.answer(&t, &v, volts, "measured at the socket")
        .expect("reading committed");
    let left = s.drafts();
    assert!(
        left.iter().all(|d| d.field == DraftField::Diagnosis),
        "committing the reading dropped its reading and note drafts, not the diagnosis: {left:?}"
    );
}

/// `upcoming orders, search and sign-out` (on its own relay, which it stops).
async fn lists_and_sign_out(s: &mut Script, relay: RunningRelay) {
    s.prelude(false).await;
    s.today();
    let r = s.app.upcoming();
    let upcoming = s.keep("upcoming", json!({}), r).expect("upcoming");
    assert!(
        upcoming.orders.iter().any(|o| o.order_id == "o-00006"),
        "next week's order is upcoming: {upcoming:?}"
    );
    for q in ["王芳", "13800000001"] {
        let r = s.app.search_orders(q);
        let found = s
            .keep("search_orders", json!({ "query": q }), r)
            .expect("search");
        assert!(!found.orders.is_empty(), "{q} finds an order");
    }
    s.open_order();
    s.step(Step::EnRoute).expect("en route");
    s.today();
    s.tick();
    let r = s.app.sign_out().await;
    let e = s.keep("sign_out", json!({}), r).expect_err("unsynced work");
    assert_eq!(e.code, "auth.unsynced_work", "sign-out waits for the sync");
    s.sync_status();
    s.sync_to(&relay.url()).await;
    relay.stop().await;
    s.tick();
    let r = s.app.sign_out().await;
    let out = s.keep("sign_out", json!({}), r).expect("signed out");
    assert!(!out.relay_notified, "the stopped relay was not told");
    s.sign_in_form();
}

/// Technician `id`'s qualifications, changed on the dispatcher's device (as an admin's edit of the
/// profile arrives), so the picker has a technician to refuse.
fn qualify(s: &Script, id: &str, only: &[ServiceType]) {
    let mut store = s.app.store().lock().expect("store lock");
    store
        .update(
            &DocId::Profile(id.to_owned()),
            |p: &mut TechnicianProfile| {
                p.qualifications = only.to_vec();
                Ok(())
            },
        )
        .expect("change the profile");
}

/// `dispatcher: new order with its SLA, assign by drag, reassign with a reason, review`.
async fn console(s: &mut Script) {
    s.prelude(false).await;
    qualify(
        s,
        "tech.b",
        &[ServiceType::Repair, ServiceType::Maintenance],
    );
    let board = |s: &mut Script| {
        let r = s.app.board(0);
        s.query("board", json!({ "offsetDays": 0 }), r)
    };
    let first = board(s);
    assert!(
        first.pool.is_empty(),
        "the seed assigns every order: {:?}",
        first.pool
    );
    // New order: the SLA for the default tier, the customer found, the customer's tier.
    let r = s.app.sla_preview(Tier::Standard);
    s.query("sla_preview", json!({ "tier": "Standard" }), r);
    let r = s.app.find_customers("张伟");
    let found = s.query("find_customers", json!({ "query": "张伟" }), r);
    let m = found.first().expect("张伟 is a customer").clone();
    let r = s.app.sla_preview(m.tier);
    s.query("sla_preview", json!({ "tier": m.tier }), r);
    let request = NewOrderRequest {
        household_id: Some(m.household_id.clone()),
        customer_name: m.name.clone(),
        phone: m.phone.clone(),
        address: m.address.clone(),
        tier: m.tier,
        notes: m.notes.clone(),
        appliance_id: m.appliances.first().map(|a| a.id.clone()),
        new_appliance: None,
        service_type: ServiceType::Installation,
        problem: "加装一台空调 / Install a second air-conditioner".to_owned(),
        window: Some(WindowInput {
            start_ms: DAY + 14 * HOUR,
            end_ms: DAY + 16 * HOUR,
        }),
    };
    s.tick();
    let r = s.app.create_order(request.clone());
    let created = s
        .keep("create_order", json!({ "request": request }), r)
        .expect("order created");
    let id = created.card.order_id.clone();
    assert!(
        board(s).pool.iter().any(|c| c.order_id == id),
        "a new order waits in the pool"
    );
    // The picker: tech.b is not qualified for installations.
    let r = s.app.dispatch_order(&id);
    s.query("dispatch_order", json!({ "orderId": id }), r);
    let r = s.app.assignment_picker(&id);
    let picker = s.query("assignment_picker", json!({ "orderId": id }), r);
    assert!(
        picker
            .rows
            .iter()
            .any(|r| r.technician_id == "tech.b" && r.not_qualified.is_some()),
        "the picker says why tech.b cannot take it: {picker:?}"
    );
    assert_eq!(
        picker
            .suggested
            .iter()
            .map(|s| s.technician_id.as_str())
            .collect::<Vec<_>>(),
        ["tech.a"],
        "only the qualified technician is suggested (自动派单)"
    );
    assign(s, &id, "tech.a", None);
    board(s);
    // 转派 of tech.b's order to tech.a, with a reason.
    let r = s.app.dispatch_order("o-00005");
    s.query("dispatch_order", json!({ "orderId": "o-00005" }), r);
    let r = s.app.assignment_picker("o-00005");
    s.query("assignment_picker", json!({ "orderId": "o-00005" }), r);
    let reason = "客户要求换师傅 / Customer asked for another technician";
    let moved = assign(s, "o-00005", "tech.a", Some(reason));
    assert_eq!(
        moved.transfers.len(),
        2,
        "the transfer history keeps both assignments"
    );
    board(s);
    let r = s.app.conflicts();
    s.query("conflicts", json!({}), r);
    let r = s.app.completions();
    s.query("completions", json!({}), r);
    let r = s.app.history_window();
    s.query("history_window", json!({}), r);
    let r = s.app.search_customers("张伟");
    let hits = s.query("search_customers", json!({ "query": "张伟" }), r);
    let hh = hits
        .households
        .first()
        .expect("张伟's household")
        .household_id
        .clone();
    let r = s.app.household(&hh);
    s.query("household", json!({ "householdId": hh }), r);
    faulty_part_taken_out(s).await;
    parts_issue(s);
    faulty_return(s);
    registry_forms(s);
    completion_record(s).await;
    technicians(s);
    exports(s);
}

/// Export: the Completions list and tech.a's stock as CSV and XLSX, in both languages.
fn exports(s: &mut Script) {
    for language in ["en", "zh-CN"] {
        for (table, technician_id) in [
            (ExportTableKind::Completions, None),
            (ExportTableKind::TechnicianStock, Some("tech.a".to_owned())),
            (ExportTableKind::StockOverview, None),
        ] {
            for format in [ExportFormat::Csv, ExportFormat::Xlsx] {
                let request = ExportRequest {
                    table,
                    technician_id: technician_id.clone(),
                    format,
                    language: language.to_owned(),
                };
                let r = s.app.export_table(request.clone());
                let saved = s.query("export_table", json!({ "request": request }), r);
                assert!(
                    saved.rows > 0,
                    "the seeded console has rows to export: {saved:?}"
                );
            }
        }
    }
}

/// tech.a replaces the capacitor of o-00000 on a technician's device of its own (not part of the
/// recording); the part line reaches the dispatcher, whose stock view then awaits the faulty part.
async fn faulty_part_taken_out(s: &mut Script) {
    let dir = s._dir.path().join("tech-device");
    let tech = open_app(&dir, &s.clock, &Arc::new(AtomicU32::new(500)), &dir);
    let request = SignInRequest {
        relay_url: s.relay_url.clone(),
        user: "tech.a".to_owned(),
        password: PASSWORD.to_owned(),
        allow_plain_http: false,
    };
    tech.sign_in(request).await.expect("tech.a signs in");
    wait_for("tech.a's orders", || {
        tech.today()
            .is_ok_and(|t| t.orders.iter().any(|o| o.order_id == ORDER))
    })
    .await;
    tech.apply_edit(
        ORDER,
        EditRequest::AddPart {
            part_no: "AC-CAP-35UF".to_owned(),
            qty: 1,
            faulty_serial: "CAP-BURNT-42".to_owned(),
            replacement_serial: "CAP-NEW-7".to_owned(),
            source: StockSourceView::Personal,
        },
    )
    .expect("tech.a replaces the capacitor");
    // The sync task syncs on start (the script's config waits a day after an edit).
    tech.stop_sync();
    assert!(tech.start_sync(), "tech.a is signed in");
    wait_for("tech.a's part line to reach the relay", || {
        tech.sync_status()
            .is_ok_and(|st| st.online && st.pending_changes == 0)
    })
    .await;
    tech.stop_sync();
    s.pin_relay_url_to(&s.relay_url.clone());
    assert!(s.app.start_sync(), "the dispatcher is signed in");
    wait_for("the part line to reach the dispatcher", || {
        s.app
            .technician_stock("tech.a")
            .is_ok_and(|st| !st.awaiting_faulty.is_empty())
    })
    .await;
    s.app.stop_sync();
    s.pin_relay_url();
}

/// The faulty capacitor comes back, picked from the parts awaited and returned by its serial.
fn faulty_return(s: &mut Script) {
    let r = s.app.technician_stock("tech.a");
    let stock = s.query("technician_stock", json!({ "technicianId": "tech.a" }), r);
    let awaited = stock.awaiting_faulty.first().expect("the faulty capacitor");
    assert_eq!(awaited.serial, "CAP-BURNT-42", "awaited by its serial");
    let request = FaultyReturnRequest {
        technician_id: "tech.a".to_owned(),
        order_id: awaited.order_id.clone(),
        serial: awaited.serial.clone(),
        note: "旧件退回 / faulty part back".to_owned(),
    };
    s.tick();
    let r = s.app.return_faulty_part(request.clone());
    let back = s
        .keep("return_faulty_part", json!({ "request": request }), r)
        .expect("returned");
    assert!(
        back.awaiting_faulty.is_empty() && back.faulty_returns.len() == 1,
        "recorded, no longer awaited"
    );
}

/// A new household through the form (a bad second phone first, shown by that phone), then an
/// appliance for it.
fn registry_forms(s: &mut Script) {
    let contact = ContactRequest {
        name: "赵敏".to_owned(),
        phones: vec!["139 1234 5678".to_owned(), "12345".to_owned()],
        address: "上海市长宁区愚园路 1000 弄 9 号".to_owned(),
        tier: Tier::Platinum,
        notes: "请提前电话联系 / Call ahead".to_owned(),
        preferences: vec!["".to_owned()],
    };
    s.tick();
    let r = s.app.create_household(contact.clone());
    let e = s
        .keep("create_household", json!({ "request": contact }), r)
        .expect_err("a bad phone");
    assert_eq!(
        e.field.map(|f| (f.field, f.index)),
        Some((onsite_domain::household::Field::Phones, Some(1))),
        "refused by the second phone"
    );
    let contact = ContactRequest {
        phones: vec!["139 1234 5678".to_owned(), "021-6234 5678".to_owned()],
        ..contact
    };
    s.tick();
    let r = s.app.create_household(contact.clone());
    let created = s
        .keep("create_household", json!({ "request": contact }), r)
        .expect("household created");
    let appliance = ApplianceRequest {
        id: None,
        category: "washer".to_owned(),
        brand: "Little Swan".to_owned(),
        model: "TG100V88".to_owned(),
        serial: "LS-1".to_owned(),
        purchase_date_ms: Some(DAY - 100 * 24 * HOUR),
        warranty_until_ms: Some(DAY + 2 * 365 * 24 * HOUR),
    };
    s.tick();
    let id = created.household_id.clone();
    let r = s.app.save_appliance(&id, appliance.clone());
    let with = s
        .keep(
            "save_appliance",
            json!({ "householdId": id, "request": appliance }),
            r,
        )
        .expect("appliance added");
    assert!(with.appliances[0].in_warranty, "bought 100 days ago");
}

/// The record tech.a signed on 张伟's past order opens from Completions: its HTML and PDF.
async fn completion_record(s: &mut Script) {
    let r = s.app.completions();
    let list = s.query("completions", json!({}), r);
    let c = list
        .completions
        .iter()
        .find(|c| c.order_id == "o-hh1-1")
        .expect("张伟's past order was signed")
        .clone();
    // The signature image comes from the relay the first time (at its real address); the
    // recorded answers then use the pinned address like every other.
    s.pin_relay_url_to(&s.relay_url.clone());
    let args = (c.order_id.as_str(), Some(c.technician_id.as_str()));
    s.app
        .record_html(args.0, args.1, "en")
        .await
        .expect("the signature image fetched");
    s.pin_relay_url();
    for lang in ["en", "zh-CN"] {
        let r = s.app.record_html(args.0, args.1, lang).await;
        let keyed =
            json!({ "orderId": c.order_id, "technicianId": c.technician_id, "language": lang });
        s.query("record_html", keyed, r);
        let r = s.app.save_record_pdf(args.0, args.1, lang).await;
        let keyed =
            json!({ "orderId": c.order_id, "technicianId": c.technician_id, "language": lang });
        s.query("save_record_pdf", keyed, r);
    }
}

/// Technicians (技师): a dispatcher (who may not edit a profile) must give a reason to withdraw,
/// and withdraws tech.b's certificate.
fn technicians(s: &mut Script) {
    let r = s.app.technicians();
    let before = s.query("technicians", json!({}), r);
    assert!(
        before.can_withdraw && !before.can_edit,
        "a dispatcher withdraws but does not edit"
    );
    for reason in ["", "冒用证件投诉 / reported for misuse"] {
        let request = CertificateActionRequest {
            technician_id: "tech.b".to_owned(),
            reason: reason.to_owned(),
        };
        s.tick();
        let r = s.app.withdraw_certificate(request.clone());
        let answer = s.keep("withdraw_certificate", json!({ "request": request }), r);
        assert_eq!(
            answer.is_ok(),
            !reason.is_empty(),
            "a withdrawal needs a reason: {answer:?}"
        );
    }
}

/// 领料: the dispatcher issues two capacitors to tech.a.
fn parts_issue(s: &mut Script) {
    let r = s.app.stock_overview();
    s.query("stock_overview", json!({}), r);
    let r = s.app.technician_stock("tech.a");
    let before = s.query("technician_stock", json!({ "technicianId": "tech.a" }), r);
    let held = |v: &TechnicianStockView| {
        v.lines
            .iter()
            .find(|l| l.part_no == "AC-CAP-35UF")
            .map_or(0, |l| l.on_hand)
    };
    let request = StockMoveRequest {
        technician_id: "tech.a".to_owned(),
        part_no: "AC-CAP-35UF".to_owned(),
        qty: 2,
        note: "补货 / restock".to_owned(),
    };
    s.tick();
    let r = s.app.issue_parts(request.clone());
    let after = s
        .keep("issue_parts", json!({ "request": request }), r)
        .expect("parts issued");
    assert_eq!(
        held(&after),
        held(&before) + 2,
        "the issue adds to tech.a's stock"
    );
    let r = s.app.stock_overview();
    s.query("stock_overview", json!({}), r);
}

/// Assign `order` to `to` (a transfer when `reason` is given), then what the board reloads.
fn assign(s: &mut Script, order: &str, to: &str, reason: Option<&str>) -> DispatchOrderView {
    s.tick();
    let (cmd, args, r) = match reason {
        None => (
            "assign_order",
            json!({ "orderId": order, "technicianId": to }),
            s.app.assign_order(order, to),
        ),
        Some(why) => (
            "reassign_order",
            json!({ "orderId": order, "technicianId": to, "reason": why }),
            s.app.reassign_order(order, to, why),
        ),
    };
    let d = s.keep(cmd, args, r).expect("assigned");
    assert_eq!(
        d.card.assignee.as_deref(),
        Some(to),
        "{order} is {to}'s now"
    );
    let r = s.app.dispatch_order(order);
    s.query("dispatch_order", json!({ "orderId": order }), r);
    d
}

/// A device the browser never sees (a technician on site, another dispatcher): `user` signed in
/// at `url` on its own folder under `dir`, on `clock`, synced once.
async fn helper_device(dir: &Path, url: &str, user: &str, clock: &Arc<AtomicI64>) -> App {
    let folder = dir.join(user);
    // Ids of their own, so nothing they create collides with the recorded device's.
    let counter = Arc::new(AtomicU32::new(900));
    let app = open_app(&folder, clock, &counter, &folder.join("Documents"));
    let request = SignInRequest {
        relay_url: url.to_owned(),
        user: user.to_owned(),
        password: PASSWORD.to_owned(),
        allow_plain_http: false,
    };
    app.sign_in(request).await.expect("helper signs in");
    wait_for("the helper's first sync", || {
        app.sync_status().is_ok_and(|s| s.last_synced_ms.is_some())
    })
    .await;
    app
}

/// Deliver what `app` changed to the relay.
async fn push(app: &App) {
    app.stop_sync();
    assert!(app.start_sync(), "a session to sync");
    wait_for("the helper's changes to sync", || {
        app.sync_status()
            .is_ok_and(|s| s.online && s.pending_changes == 0)
    })
    .await;
}

/// Before the dispatcher looks: tech.a arrived at o-00000 and tech.b at o-00001; another
/// dispatcher's device put o-00000 on hold and reassigned o-00001 to tech.a.
async fn conflicts_setup(dir: &Path, url: &str) {
    let clock = Arc::new(AtomicI64::new(DAY + 9 * HOUR));
    for (user, order) in [("tech.a", ORDER), ("tech.b", "o-00001")] {
        let tech = helper_device(dir, url, user, &clock).await;
        for step in [Step::EnRoute, Step::Arrived] {
            clock.fetch_add(MINUTE, Ordering::SeqCst);
            tech.apply_edit(order, EditRequest::Progress { step })
                .unwrap_or_else(|e| panic!("{user}: {step:?} on {order}: {e:?}"));
        }
        push(&tech).await;
        tech.stop_sync();
    }
    let other = helper_device(dir, url, "disp", &clock).await;
    clock.fetch_add(MINUTE, Ordering::SeqCst);
    other
        .hold_order(ORDER, "缺配件 / waiting for parts")
        .expect("hold");
    other
        .reassign_order(
            "o-00001",
            "tech.a",
            "tech.b 需支援 / tech.b needed elsewhere",
        )
        .expect("reassign");
    push(&other).await;
    other.stop_sync();
}

/// `conflicts`: the dispatcher reviews the queue, is refused without a note, resumes o-00000
/// (the decision is recorded on the order and synced); o-00001's reassignment stays open.
async fn conflicts(s: &mut Script) {
    s.prelude(false).await;
    let r = s.app.board(0);
    s.query("board", json!({ "offsetDays": 0 }), r);
    let r = s.app.conflicts();
    let queue = s.query("conflicts", json!({}), r);
    assert_eq!(queue.open, 2, "two conflicts to decide: {queue:?}");
    let held = queue
        .conflicts
        .iter()
        .find(|c| c.order_id == ORDER)
        .expect("the hold while on site")
        .clone();
    let resume = held
        .allowed
        .iter()
        .find(|a| a.choice.action == ResolutionAction::Resume)
        .expect("resume is offered")
        .choice
        .clone();
    let mut request = ResolveConflictRequest {
        order_id: ORDER.to_owned(),
        key: held.key.clone(),
        choice: resume,
        note: String::new(),
    };
    s.tick();
    let r = s.app.resolve_conflict(request.clone());
    let e = s
        .keep("resolve_conflict", json!({ "request": request }), r)
        .expect_err("a decision needs a note");
    assert_eq!(e.code, "input.empty", "refused by code");
    request.note = "配件已到 / parts arrived".to_owned();
    s.tick();
    let r = s.app.resolve_conflict(request.clone());
    let after = s
        .keep("resolve_conflict", json!({ "request": request }), r)
        .expect("resumed");
    assert_eq!(after.open, 1, "the reassignment is still open: {after:?}");
    assert!(
        after
            .conflicts
            .iter()
            .any(|c| c.order_id == ORDER && !c.open && c.resolution.is_some()),
        "the hold is listed as resolved with its decision"
    );
    let url = s.relay_url.clone();
    s.pin_relay_url_to(&url);
    push(&s.app).await;
    s.app.stop_sync();
    s.pin_relay_url();
}

/// `conflicts-technician`: tech.a on a fresh device sees on o-00000 that dispatch stopped it
/// while they were on site, and the dispatcher's decision.
async fn conflicts_technician(s: &mut Script) {
    s.prelude(false).await;
    s.today();
    let d = s.open_order();
    assert_eq!(
        d.conflicts
            .iter()
            .map(|c| (c.kind, c.resolution.as_ref().map(|r| r.action)))
            .collect::<Vec<_>>(),
        [(
            onsite_domain::status::ConflictKind::StoppedWhileOnSite,
            Some(ResolutionAction::Resume)
        )],
        "the order shows the conflict and the decision"
    );
}

/// stats: `admin: Statistics (a month, the previous one, exports), a refused and a saved bonus
/// version, the Scorecard of the centre and of tech.a with its export`.
async fn statistics(s: &mut Script) {
    s.prelude(false).await;
    let r = s.app.board(0);
    s.query("board", json!({ "offsetDays": 0 }), r);
    let all = |month| StatsRequest {
        month,
        technician_id: None,
    };
    let r = s.app.statistics(all(None));
    let first = s.query("statistics", json!({ "request": all(None) }), r);
    assert!(
        first.technicians.iter().all(|t| t.bonus.is_some()),
        "the seeded formula pays every technician: {:?}",
        first.technicians
    );
    let month = first.month;
    let previous = Some(month.previous());
    let r = s.app.statistics(all(previous));
    s.query("statistics", json!({ "request": all(previous) }), r);
    let r = s.app.statistics(all(Some(month)));
    s.query("statistics", json!({ "request": all(Some(month)) }), r);
    stats_exports(
        s,
        month,
        &[StatsTableKind::Technicians, StatsTableKind::Centre],
        None,
    );
    bonus_versions(s, &first);
    let r = s.app.scorecard(all(None));
    s.query("scorecard", json!({ "request": all(None) }), r);
    let tech = StatsRequest {
        month: Some(month),
        technician_id: Some("tech.a".to_owned()),
    };
    let r = s.app.scorecard(tech.clone());
    let card = s.query("scorecard", json!({ "request": tech }), r);
    assert!(
        card.lines.iter().any(|l| l.not_measurable.is_some()),
        "the scorecard lists what the records cannot measure"
    );
    stats_exports(s, month, &[StatsTableKind::Scorecard], Some("tech.a"));
}

/// The statistics tables of `month` as CSV and XLSX in both languages.
fn stats_exports(s: &mut Script, month: Month, tables: &[StatsTableKind], who: Option<&str>) {
    for language in ["en", "zh-CN"] {
        for &table in tables {
            for format in [ExportFormat::Csv, ExportFormat::Xlsx] {
                let request = StatsExportRequest {
                    table,
                    month: Some(month),
                    technician_id: who.map(str::to_owned),
                    format,
                    language: language.to_owned(),
                };
                let r = s.app.export_statistics(request.clone());
                let saved = s.query("export_statistics", json!({ "request": request }), r);
                assert!(saved.rows > 0, "the statistics have rows: {saved:?}");
            }
        }
    }
}

/// The admin's form, as the UI sends it: the newest version with the cap below the floor
/// (refused), then with 40 yuan per order, in force from this month (saved); the screen reloads.
fn bonus_versions(s: &mut Script, view: &StatisticsView) {
    let latest = view.bonus.latest.clone().expect("the seeded formula");
    let from = view.bonus.effective_months[0];
    let form = |per_completion_cents, cap_cents| BonusFormulaRequest {
        effective_month: from,
        per_completion_cents,
        min_completions: latest.min_completions,
        terms: latest
            .terms
            .iter()
            .map(|t| BonusTermRequest {
                figure: t.name.clone(),
                weight_cents: t.weight_cents,
                threshold: t.threshold,
            })
            .collect(),
        floor_cents: latest.floor_cents,
        cap_cents,
    };
    let bad = form(latest.per_completion_cents, -100);
    s.tick();
    let r = s.app.save_bonus_formula(bad.clone());
    let e = s
        .keep("save_bonus_formula", json!({ "request": bad }), r)
        .expect_err("a cap below the floor");
    assert_eq!(e.code, "bonus.cap_below_floor");
    let good = form(4_000, latest.cap_cents);
    s.tick();
    let r = s.app.save_bonus_formula(good.clone());
    let saved = s
        .keep("save_bonus_formula", json!({ "request": good }), r)
        .expect("a new version");
    assert_eq!(saved.version, latest.version + 1);
    let again = StatsRequest {
        month: Some(view.month),
        technician_id: None,
    };
    let r = s.app.statistics(again.clone());
    let now = s.query("statistics", json!({ "request": again }), r);
    assert_eq!(
        now.bonus.in_force.map(|f| f.version),
        Some(saved.version),
        "this month is paid with the new version"
    );
}

/// Every recorded script, one per browser scenario (`ui/tests/fixtures/<name>.json`).
const SCRIPTS: [&str; 12] = [
    "whole-job",
    "incomplete-sign",
    "language",
    "offline",
    "handover-lock",
    "drafts",
    "lists-and-sign-out",
    // stats: before `console`, whose new order carries a random device prefix the board would show.
    "statistics",
    "console",
    // conflicts: also writes `conflicts-technician`.
    "conflicts",
    // followups:
    "followups",
    // followups: the admin's service settings.
    "service-settings",
];

/// followups: `admin: the Service settings screen`, a new version refused by its field (row 1's
/// months), then saved: follow-up within 24 h, fridges every 12 months, washers added every 36.
async fn service_settings(s: &mut Script) {
    s.prelude(false).await;
    let r = s.app.board(0);
    s.query("board", json!({ "offsetDays": 0 }), r);
    let r = s.app.service_settings();
    let view = s.query("service_settings", json!({}), r);
    assert!(view.can_edit, "the admin may edit: {view:?}");
    let form = |months_1: u32| {
        let mut maintenance = view.maintenance.clone();
        maintenance[1].months = months_1;
        for m in &mut maintenance {
            if m.category == "fridge" {
                m.months = 12;
            }
        }
        maintenance.push(MaintenanceRow {
            category: "washer".to_owned(),
            months: 36,
            task: "洗衣机桶清洁 / Washer drum cleaning".to_owned(),
        });
        ServiceSettingsRequest {
            follow_up_within_hours: 24,
            follow_up_retry_hours: view.follow_up_retry_hours,
            complaint_resolve_hours: view.complaint_resolve_hours,
            maintenance,
        }
    };
    let bad = form(0);
    s.tick();
    let r = s.app.save_service_settings(bad.clone());
    let e = s
        .keep("save_service_settings", json!({ "request": bad }), r)
        .expect_err("0 months");
    assert_eq!(e.code, "service.bad_interval");
    assert_eq!(
        e.field.map(|f| f.index),
        Some(Some(1)),
        "refused at row 1: {e:?}"
    );
    let good = form(view.maintenance[1].months);
    s.tick();
    let r = s.app.save_service_settings(good.clone());
    let saved = s
        .keep("save_service_settings", json!({ "request": good }), r)
        .expect("a new version");
    assert_eq!(saved.version, view.version + 1);
}

/// Follow-ups (回访) and reminders, as `disp`: the seed's past jobs are overdue for their call; a call without answer, a complaint refused without
/// the customer's words then recorded, a satisfied customer, the complaint resolved; the demo
/// fridges' reminders, one turned into an order, one dismissed after a refusal without reason;
/// the service settings, read-only for a dispatcher.
async fn followups(s: &mut Script) {
    s.prelude(false).await;
    let r = s.app.board(0);
    s.query("board", json!({ "offsetDays": 0 }), r);
    let r = s.app.follow_ups();
    let list = s.query("follow_ups", json!({}), r);
    let ids: Vec<(&str, &str)> = list
        .follow_ups
        .iter()
        .map(|f| (f.order_id.as_str(), f.technician_id.as_str()))
        .collect();
    // The browser scenario names each call by order and technician.
    for id in [
        ("o-hh1-1", "tech.a"),
        ("o-hh2-1", "tech.b"),
        ("o-hh3-1", "tech.a"),
    ] {
        assert!(
            ids.contains(&id),
            "{id:?} waits for its follow-up call: {ids:?}"
        );
    }
    let answer = |s: &mut Script, order: &str, outcome, words: &str| {
        s.tick();
        let request = FollowUpAnswerRequest {
            order_id: order.into(),
            technician_id: if order == "o-hh2-1" {
                "tech.b"
            } else {
                "tech.a"
            }
            .into(),
            outcome,
            words: words.into(),
        };
        let r = s.app.record_follow_up(request.clone());
        s.keep("record_follow_up", json!({ "request": request }), r)
    };
    use onsite_domain::followup::CallOutcome;
    answer(s, "o-hh1-1", CallOutcome::NoAnswer, "").expect("no answer");
    let refused = answer(s, "o-hh2-1", CallOutcome::Complaint, "");
    assert_eq!(
        refused.expect_err("no words").code,
        onsite_domain::Code::FollowupWordsRequired
    );
    let words = "空调清洗后仍有异味 / still smells after the cleaning";
    let after = answer(s, "o-hh2-1", CallOutcome::Complaint, words).expect("complaint");
    answer(s, "o-hh3-1", CallOutcome::Satisfied, "").expect("satisfied");
    let complaint = after.complaints[0].complaint_id.clone();
    s.tick();
    let request = ResolveComplaintRequest {
        order_id: "o-hh2-1".into(),
        complaint_id: complaint,
        note: "再次上门清洗蒸发器，客户满意 / evaporator cleaned again".into(),
    };
    let r = s.app.resolve_complaint(request.clone());
    s.keep("resolve_complaint", json!({ "request": request }), r)
        .expect("resolved");
    followup_reminders(s);
    // The Service settings screen: a dispatcher reads them, only an admin edits them.
    let r = s.app.service_settings();
    let settings = s.query("service_settings", json!({}), r);
    assert!(
        !settings.can_edit,
        "a dispatcher reads the service settings only"
    );
}

fn followup_reminders(s: &mut Script) {
    let r = s.app.reminders();
    let due = s.query("reminders", json!({}), r).due;
    assert!(due.len() >= 2, "the demo fridges are due: {due:?}");
    let request = |r: &ReminderView, reason: &str| ReminderActionRequest {
        household_id: r.household_id.clone(),
        key: r.key.clone(),
        reason: reason.into(),
    };
    s.tick();
    let req = request(&due[0], "");
    let r = s.app.order_from_reminder(req.clone());
    s.keep("order_from_reminder", json!({ "request": req }), r)
        .expect("ordered");
    let r = s.app.reminders();
    s.query("reminders", json!({}), r);
    s.tick();
    let req = request(&due[1], "");
    let r = s.app.dismiss_reminder(req.clone());
    let refused = s.keep("dismiss_reminder", json!({ "request": req }), r);
    assert_eq!(
        refused.expect_err("no reason").code,
        onsite_domain::Code::ReminderReasonRequired
    );
    s.tick();
    let req = request(&due[1], "客户已更换新冰箱 / fridge replaced");
    let r = s.app.dismiss_reminder(req.clone());
    s.keep("dismiss_reminder", json!({ "request": req }), r)
        .expect("dismissed");
}

fn committed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/tests/fixtures")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_fixtures_are_the_real_answers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let shared = relay(dir.path()).await;
    let url = shared.url();
    let mut written = Vec::new();
    for name in SCRIPTS {
        if name == "lists-and-sign-out" {
            // Ends by stopping its relay, so it gets one of its own.
            let own_dir = tempfile::tempdir().expect("temp dir");
            let own = relay(own_dir.path()).await;
            let mut s = Script::start(name, &own.url()).await;
            lists_and_sign_out(&mut s, own).await;
            written.push(s.finish());
            continue;
        }
        if name == "conflicts" {
            // Changes orders, so it gets a relay of its own; two scripts share it.
            let own_dir = tempfile::tempdir().expect("temp dir");
            let own = relay(own_dir.path()).await;
            conflicts_setup(own_dir.path(), &own.url()).await;
            let mut d = Script::start(name, &own.url()).await;
            d.user = "disp";
            conflicts(&mut d).await;
            let mut t = Script::start("conflicts-technician", &own.url()).await;
            conflicts_technician(&mut t).await;
            written.push(d.finish());
            written.push(t.finish());
            own.stop().await;
            continue;
        }
        if name == "followups" {
            // A relay of its own: the shared one shows the console script's orders, numbered
            // with another device's random prefix.
            let own_dir = tempfile::tempdir().expect("temp dir");
            let own = relay(own_dir.path()).await;
            let mut s = Script::start(name, &own.url()).await;
            s.user = "disp";
            followups(&mut s).await;
            written.push(s.finish());
            own.stop().await;
            continue;
        }
        if name == "service-settings" {
            // A relay of its own, like `followups`: the shared one's board shows the console
            // script's order, numbered with another device's random prefix.
            let own_dir = tempfile::tempdir().expect("temp dir");
            let own = relay(own_dir.path()).await;
            let mut s = Script::start(name, &own.url()).await;
            s.user = "admin";
            service_settings(&mut s).await;
            written.push(s.finish());
            own.stop().await;
            continue;
        }
        let mut s = Script::start(name, &url).await;
        match name {
            "whole-job" => whole_job(&mut s).await,
            "incomplete-sign" => incomplete(&mut s).await,
            "language" => language(&mut s).await,
            "offline" => offline(&mut s).await,
            "handover-lock" => handover_locked(&mut s).await,
            "drafts" => drafts(&mut s).await,
            // stats: signed in as the admin, who may change the bonus formula.
            "statistics" => {
                s.user = "admin";
                statistics(&mut s).await;
            }
            _ => {
                s.user = "disp";
                console(&mut s).await;
            }
        }
        written.push(s.finish());
    }
    shared.stop().await;
    let committed = committed_dir();
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        std::fs::create_dir_all(&committed).expect("create the fixtures folder");
        for (name, text) in &written {
            std::fs::write(committed.join(name), text).expect("write fixture");
        }
        return;
    }
    for (name, text) in &written {
        let old = std::fs::read_to_string(committed.join(name)).unwrap_or_default();
        assert!(
            &old == text,
            "ui/tests/fixtures/{name} is stale: the app answers differently now; rerun with \
             UPDATE_FIXTURES=1 cargo test -p onsite-app --test fixtures and rerun the browser tests"
        );
    }
}
