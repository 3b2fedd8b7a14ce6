//! The shell's commands through Tauri's mock runtime (headless): the same IPC path the window
//! uses, with a real device store in a temp dir and a real relay on 127.0.0.1.

use std::sync::Arc;
use std::time::Duration;

use onsite_app::view::*;
use onsite_app::{App, SyncConfig};
use onsite_desktop_lib::with_commands;
use onsite_testkit::relay::Seeded;
use onsite_testkit::{DAY, PASSWORD, ticking_clock};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tauri::test::{
    INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context, noop_assets,
};
use tauri::webview::{InvokeRequest, WebviewWindow};

fn window(app: Arc<App>) -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let tauri_app = with_commands(mock_builder())
        .manage(app)
        .build(mock_context(noop_assets()))
        .expect("build the mock app");
    let w = tauri::WebviewWindowBuilder::new(&tauri_app, "main", Default::default())
        .build()
        .expect("mock window");
    (tauri_app, w)
}

fn invoke<T: DeserializeOwned>(
    w: &WebviewWindow<MockRuntime>,
    cmd: &str,
    args: Value,
) -> Result<T, CommandError> {
    let res = get_ipc_response(
        w,
        InvokeRequest {
            cmd: cmd.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            url: "tauri://localhost".parse().expect("url"),
            body: tauri::ipc::InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    );
    match res {
        Ok(body) => Ok(body
            .deserialize::<T>()
            .unwrap_or_else(|e| panic!("{cmd}: unexpected reply shape: {e}"))),
        Err(v) => Err(serde_json::from_value(v.clone())
            .unwrap_or_else(|e| panic!("{cmd}: error is not a CommandError ({e}): {v}"))),
    }
}

fn open(dir: &std::path::Path) -> Arc<App> {
    Arc::new(
        App::open(dir, ticking_clock(DAY + 8 * onsite_domain::HOUR, 1_000))
            .expect("open app")
            .with_utc_offset_minutes(0)
            .with_sync_config(SyncConfig {
                debounce: Duration::from_millis(20),
                backoff_min: Duration::from_millis(50),
                backoff_max: Duration::from_millis(500),
                poll_every: Duration::from_millis(500),
                ..SyncConfig::default()
            }),
    )
}

#[test]
fn settings_and_refusals_cross_the_ipc_as_typed_values() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_app, w) = window(open(dir.path()));
    let s: Settings = invoke(&w, "settings", json!({})).expect("settings");
    assert_eq!(s.language, None, "no language chosen yet: follow the OS");
    let s: Settings =
        invoke(&w, "set_language", json!({ "language": "zh-CN" })).expect("set language");
    assert_eq!(s.language.as_deref(), Some("zh-CN"));
    let e = invoke::<Settings>(&w, "set_language", json!({ "language": "klingon" })).unwrap_err();
    assert_eq!(e.code, "settings.unsupported_language");
    let none: Option<Session> = invoke(&w, "session", json!({})).expect("session");
    assert_eq!(none, None);
    let e = invoke::<Today>(&w, "today", json!({})).unwrap_err();
    assert_eq!(
        e.code, "auth.not_signed_in",
        "the UI gets a stable code, not a string to match"
    );
    let status: SyncStatus = invoke(&w, "sync_status", json!({})).expect("status");
    assert!(!status.online);
}

#[test]
fn sign_in_today_and_an_edit_through_the_ipc() {
    let seeded = tauri::async_runtime::block_on(Seeded::start());
    let (dir, url) = (&seeded.dir, &seeded.url);
    let (_app, w) = window(open(&dir.path().join("device")));

    let bad = invoke::<Session>(
        &w,
        "sign_in",
        json!({ "request": { "relay_url": url, "user": "tech.a", "password": "nope", "allow_plain_http": false } }),
    )
    .unwrap_err();
    assert!(
        bad.code.as_str().starts_with("auth."),
        "wrong password refused by code: {}",
        bad.code
    );
    let s: Session = invoke(
        &w,
        "sign_in",
        json!({ "request": { "relay_url": url, "user": "tech.a", "password": PASSWORD, "allow_plain_http": false } }),
    )
    .expect("sign in");
    assert_eq!(s.technician_id, "tech.a");

    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let today = loop {
        let t: Today = invoke(&w, "today", json!({})).expect("today");
        if !t.orders.is_empty() {
            break t;
        }
        assert!(std::time::Instant::now() < deadline, "orders did not sync");
        let _: SyncStatus = invoke(&w, "sync_now", json!({})).expect("sync now");
        std::thread::sleep(Duration::from_millis(25));
    };
    let oid = today.orders[0].order_id.clone();
    let d: OrderDetail = invoke(&w, "order_detail", json!({ "orderId": oid })).expect("detail");
    assert_eq!(d.step, None);
    let e = invoke::<OrderDetail>(
        &w,
        "apply_edit",
        json!({ "orderId": oid, "edit": { "type": "progress", "step": "work_done" } }),
    )
    .unwrap_err();
    assert_eq!(e.code, "progress.invalid_transition");
    let d: OrderDetail = invoke(
        &w,
        "apply_edit",
        json!({ "orderId": oid, "edit": { "type": "progress", "step": "en_route" } }),
    )
    .expect("en route");
    assert_eq!(d.step, Some(Step::EnRoute));
    let cert: CertificateView = invoke(&w, "certificate", json!({})).expect("certificate");
    assert!(cert.qr_svg.contains("<svg"));
    let fees: FeeScheduleView = invoke(&w, "fee_schedule", json!({})).expect("fees");
    assert!(!fees.items.is_empty());
    let parts: PartsView = invoke(&w, "parts_and_stock", json!({})).expect("parts");
    assert!(parts.parts.iter().any(|p| p.on_hand > 0));
    let stocked = parts
        .parts
        .iter()
        .find(|p| p.on_hand > 0)
        .expect("a stocked part");
    let after: StockAfterUseView = invoke(
        &w,
        "stock_after_use",
        json!({ "request": { "part_no": stocked.part_no, "qty": stocked.on_hand + 1, "source": "personal" } }),
    )
    .expect("stock preview");
    assert!(
        after.below_zero && after.left == -1,
        "one more than on hand goes below zero: {after:?}"
    );
    let e = invoke::<OrderDetail>(
        &w,
        "sign",
        json!({ "request": { "order_id": oid, "signer_name": "x", "png_base64": "aGVsbG8=" } }),
    )
    .unwrap_err();
    assert_eq!(e.code, "signature.not_png");
    for cmd in ["record_html", "save_record_pdf"] {
        let e = invoke::<Value>(&w, cmd, json!({ "orderId": oid, "language": "en" })).unwrap_err();
        assert_eq!(
            e.code, "record.not_signed",
            "{cmd}: no record before signing"
        );
    }

    // The first-hour commands: sign-in form, lists, drafts and hand-over mode.
    let form: SignInForm = invoke(&w, "sign_in_form", json!({})).expect("sign-in form");
    assert_eq!(&form.relay_url, url, "the last relay is proposed");
    let _: OrderList = invoke(&w, "upcoming", json!({})).expect("upcoming");
    let found: OrderList = invoke(
        &w,
        "search_orders",
        json!({ "query": today.orders[0].order_no }),
    )
    .expect("search");
    assert!(
        found.orders.iter().any(|o| o.order_id == oid),
        "search by order number"
    );
    let field = json!({ "type": "note", "template_id": "repair", "item_id": "repair.insulation" });
    let _: () = invoke(
        &w,
        "save_draft",
        json!({ "request": { "order_id": oid, "field": field, "text": "typed" } }),
    )
    .expect("save draft");
    let drafts: Vec<DraftView> = invoke(&w, "drafts", json!({ "orderId": oid })).expect("drafts");
    assert_eq!(drafts.len(), 1);
    let _: () = invoke(
        &w,
        "discard_draft",
        json!({ "orderId": oid, "field": field }),
    )
    .expect("discard draft");
    let lock: HandoverLock =
        invoke(&w, "lock_handover", json!({ "orderId": oid })).expect("hand over");
    assert_eq!(lock.order_id.as_deref(), Some(oid.as_str()));
    let e = invoke::<Today>(&w, "today", json!({})).unwrap_err();
    assert_eq!(
        e.code, "handover.locked",
        "Today is refused while handed over"
    );
    let lock: HandoverLock = invoke(&w, "unlock_handover", json!({})).expect("unlock");
    assert_eq!(lock.order_id, None);
    let lock: HandoverLock = invoke(&w, "handover_lock", json!({})).expect("lock state");
    assert_eq!(lock.order_id, None);
    // Sign-out is refused (changing nothing) until the en-route edit has synced.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let out = loop {
        match invoke::<SignOutView>(&w, "sign_out", json!({})) {
            Ok(out) => break out,
            Err(e) => assert_eq!(e.code, "auth.unsynced_work", "only unsynced work refuses"),
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the edits did not sync"
        );
        let _: SyncStatus = invoke(&w, "sync_now", json!({})).expect("sync now");
        std::thread::sleep(Duration::from_millis(25));
    };
    assert!(out.relay_notified, "the relay revoked the token");
    let none: Option<Session> = invoke(&w, "session", json!({})).expect("session");
    assert_eq!(none, None, "signed out");
    tauri::async_runtime::block_on(seeded.stop());
}
