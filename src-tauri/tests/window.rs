//! Real-window end-to-end test: the built app in a WebKitGTK window driven through `tauri-driver`
//! (Debian's `WebKitWebDriver`) under `xvfb-run`, against a real relay on 127.0.0.1. Signs in,
//! opens an order, answers the checklist, draws a signature on the pad and checks the signed visit
//! arrived at the relay.
//!
//! Needs a display and `tauri-driver` on PATH, so it only builds with the `e2e` feature:
//! `xvfb-run -a cargo test -p onsite-desktop --features e2e --test window`.

use std::net::TcpListener as StdListener;
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use onsite_domain::DocId;
use onsite_domain::visit::Visit;
use onsite_relay::RelayStorage;
use onsite_testkit::PASSWORD;
use onsite_testkit::clock::wall_clock_day;
use onsite_testkit::relay::Seeded;
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    http: reqwest::blocking::Client,
    base: String,
    session: String,
}

impl Driver {
    fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let r = self
            .http
            .request(method, &url)
            .json(&body)
            .send()
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        let v: Value = r.json().unwrap_or_else(|e| panic!("{url}: not JSON: {e}"));
        v["value"].clone()
    }

    /// Like `call`, but a WebDriver error (e.g. a click intercepted by another element) fails the
    /// test with the page saved for inspection.
    fn command(&self, what: &str, method: reqwest::Method, path: &str, body: Value) -> Value {
        let v = self.call(method.clone(), path, body);
        if let Some(err) = v.get("error").and_then(Value::as_str) {
            let saved = self.save_page();
            panic!(
                "{what}: WebDriver {method} {path}: {err}: {}; {saved}",
                v["message"]
            );
        }
        v
    }

    /// Save the page source and a screenshot next to the test binary; returns where.
    fn save_page(&self) -> String {
        let dir = std::env::temp_dir().join("onsite-window-test");
        let _ = std::fs::create_dir_all(&dir);
        let src = self.call(reqwest::Method::GET, "/source", Value::Null);
        let _ = std::fs::write(dir.join("page.html"), src.as_str().unwrap_or_default());
        let shot = self.call(reqwest::Method::GET, "/screenshot", Value::Null);
        if let Some(b64) = shot.as_str() {
            use base64::Engine as _;
            if let Ok(png) = base64::engine::general_purpose::STANDARD.decode(b64) {
                let _ = std::fs::write(dir.join("screen.png"), png);
            }
        }
        format!("page saved in {}", dir.display())
    }

    fn try_find(&self, css: &str) -> Option<String> {
        let v = self.call(
            reqwest::Method::POST,
            "/element",
            json!({ "using": "css selector", "value": css }),
        );
        v[ELEMENT].as_str().map(str::to_owned)
    }

    /// Find `css`, polling up to 30 s (the UI answers asynchronously).
    fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(e) = self.try_find(css) {
                return e;
            }
            if Instant::now() >= deadline {
                let saved = self.save_page();
                panic!("element {css} did not appear; {saved}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn click(&self, testid: &str) {
        let e = self.find(&format!("[data-testid=\"{testid}\"]"));
        // Centre the element first, as a finger would scroll it into the middle of the screen:
        // the sticky sync bar must not be what receives the click.
        let what = format!("click {testid}");
        self.command(
            &what,
            reqwest::Method::POST,
            "/execute/sync",
            json!({
                "script": "arguments[0].scrollIntoView({block: 'center', inline: 'center'});",
                "args": [{ ELEMENT: e }],
            }),
        );
        self.command(
            &what,
            reqwest::Method::POST,
            &format!("/element/{e}/click"),
            json!({}),
        );
    }

    fn type_into(&self, testid: &str, text: &str) {
        let e = self.find(&format!("[data-testid=\"{testid}\"]"));
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/clear"),
            json!({}),
        );
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            json!({ "text": text }),
        );
    }

    fn text(&self, testid: &str) -> String {
        let e = self.find(&format!("[data-testid=\"{testid}\"]"));
        self.call(
            reqwest::Method::GET,
            &format!("/element/{e}/text"),
            Value::Null,
        )
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    fn wait(&self, css: &str) {
        self.find(css);
    }

    /// Draw a stroke on the signature pad with pointer actions, the way a finger would: press,
    /// move across the middle of the pad, release.
    fn draw_signature(&self) {
        let pad = self.find("[data-testid=\"signature-pad\"]");
        let rect = self.command(
            "measure the signature pad",
            reqwest::Method::POST,
            "/execute/sync",
            json!({
                "script": "arguments[0].scrollIntoView({block: 'center'}); const r = arguments[0].getBoundingClientRect(); return [r.left, r.top, r.width, r.height];",
                "args": [{ ELEMENT: pad }],
            }),
        );
        let n = |i: usize| rect[i].as_f64().expect("pad rectangle");
        let (left, top, width, height) = (n(0), n(1), n(2), n(3));
        let at = |fx: f64, fy: f64| {
            (
                (left + width * fx).round() as i64,
                (top + height * fy).round() as i64,
            )
        };
        let (x0, y0) = at(0.2, 0.5);
        let mut actions = vec![
            json!({ "type": "pointerMove", "origin": "viewport", "x": x0, "y": y0, "duration": 0 }),
            json!({ "type": "pointerDown", "button": 0 }),
        ];
        for i in 1..=30 {
            let fx = 0.2 + 0.02 * f64::from(i);
            let fy = 0.5 + 0.25 * (f64::from(i) / 3.0).sin();
            let (x, y) = at(fx, fy);
            actions.push(json!({ "type": "pointerMove", "origin": "viewport", "x": x, "y": y, "duration": 16 }));
        }
        actions.push(json!({ "type": "pointerUp", "button": 0 }));
        self.command(
            "draw the signature",
            reqwest::Method::POST,
            "/actions",
            json!({ "actions": [{ "type": "pointer", "id": "finger", "parameters": { "pointerType": "mouse" }, "actions": actions }] }),
        );
        self.command(
            "release input",
            reqwest::Method::DELETE,
            "/actions",
            Value::Null,
        );
    }
}

/// tauri-driver and the WebKitWebDriver it starts, in their own process group so that both are
/// stopped when the test ends (killing tauri-driver alone leaves WebKitWebDriver running).
struct DriverProcess(Child);
impl Drop for DriverProcess {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// The app binary cargo built for this test run (same features as the test).
fn app_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_onsite-desktop"))
}

#[test]
fn technician_completes_a_job_in_the_real_window_and_the_relay_receives_it() {
    let bin = app_binary();
    assert!(
        bin.exists(),
        "cargo builds the app binary for this test ({} missing)",
        bin.display()
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    // The app binary reads the system clock, so the demo day is today by the wall clock.
    let seeded = rt.block_on(Seeded::start_on(wall_clock_day()));
    let (dir, db) = (&seeded.dir, &seeded.db);
    let storage = onsite_relay::SqliteStorage::open(db).expect("relay db");
    let port = free_port();
    let native = free_port();
    let _driver = DriverProcess(
        Command::new("tauri-driver")
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .env("HOME", dir.path().join("home"))
            .env("LANG", "en_US.UTF-8")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .expect("start tauri-driver (cargo install tauri-driver --locked)"),
    );
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let session = loop {
        let r = http
            .post(format!("{base}/session"))
            .json(&json!({ "capabilities": { "alwaysMatch": { "tauri:options": { "application": bin } } } }))
            .send();
        if let Ok(r) = r
            && let Ok(v) = r.json::<Value>()
            && let Some(id) = v["value"]["sessionId"].as_str()
        {
            break id.to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "tauri-driver did not start a session"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let d = Driver {
        http,
        base,
        session,
    };

    d.type_into("signin-relay", &seeded.url);
    d.type_into("signin-user", "tech.a");
    d.type_into("signin-password", PASSWORD);
    d.click("signin-submit");
    // Order 2 of the demo day is tech.a's maintenance job.
    d.click("order-o-00002");
    for step in ["en_route", "arrived", "work_started"] {
        d.click(&format!("step-{step}"));
        d.wait(&format!(
            "[data-testid=\"current-step\"][data-step=\"{step}\"]"
        ));
    }
    d.click("nav-checklist");
    for item in [
        "cert.shown",
        "fees.published",
        "site.cleaned",
        "card.given",
        "shoe.covers",
        "mat.laid",
        "cloth.brought",
        "home.check",
        "maint.filter",
        "maint.coil",
    ] {
        d.click(&format!("done-{item}"));
        d.wait(&format!("[data-testid=\"answer-{item}\"]"));
    }
    d.type_into("home-appliance", "fridge");
    d.click("home-add");
    for item in ["power.tested", "maint.run_test"] {
        d.click(&format!("pass-{item}"));
        d.wait(&format!("[data-testid=\"answer-{item}\"]"));
    }
    for (item, value) in [
        ("maint.supply_voltage", "220"),
        ("maint.refrigerant_pressure", "0.9"),
    ] {
        d.type_into(&format!("reading-{item}"), value);
        d.click(&format!("save-{item}"));
        d.wait(&format!("[data-testid=\"answer-{item}\"]"));
    }
    d.click("nav-order");
    d.click("step-work_done");
    d.wait("[data-testid=\"current-step\"][data-step=\"work_done\"]");
    d.click("nav-handover");
    for c in [
        "usage_explained",
        "no_water",
        "no_smoke",
        "no_meal",
        "no_gift",
    ] {
        d.click(&format!("confirm-{c}"));
    }
    d.click("star-5");
    d.wait("[data-testid=\"handover-ready\"]");
    d.type_into("signer-name", "王芳");
    d.draw_signature();
    d.click("sign-submit");
    d.wait("[data-testid=\"done-record\"]");
    let hash = d.text("done-hash");
    assert_eq!(hash.len(), 64, "the Done screen shows the record hash");
    d.click("done-save-pdf");
    let shown = d.text("done-saved-pdf");
    let path = PathBuf::from(
        shown
            .split_once(" to ")
            .map(|(_, p)| p.trim())
            .unwrap_or_else(|| panic!("the Done screen names the saved file: {shown}")),
    );
    assert!(
        path.starts_with(dir.path().join("home/Documents/Onsite")),
        "the PDF goes to the (test's) documents folder: {}",
        path.display()
    );
    let pdf = std::fs::read(&path).expect("the PDF named on screen exists");
    assert!(pdf.starts_with(b"%PDF-"), "the saved file is a PDF");

    // The completion arrives at the relay.
    let vid = DocId::visit("o-00002", "tech.a");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let record = storage.order_record("WO-00002").expect("relay storage");
        let signed = record
            .and_then(|r| r.visits.into_iter().find(|v| v.doc == vid))
            .and_then(|v| {
                let doc = onsite_domain::doc::load(&v.bytes).ok()?;
                onsite_domain::doc::read::<Visit>(&doc).ok()?.signature
            });
        if let Some(sig) = signed {
            assert_eq!(
                sig.record_hash, hash,
                "the relay holds the record the customer signed"
            );
            assert_eq!(sig.signer_name, "王芳");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the signed visit did not reach the relay"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    d.call(reqwest::Method::DELETE, "", Value::Null);
    rt.block_on(seeded.stop());
}
