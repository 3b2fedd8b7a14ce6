//! The real-window tests' WebDriver client: the built app in a WebKitGTK window, driven through
//! `tauri-driver` (Debian's `WebKitWebDriver`) under `xvfb-run`. Each test binary uses part of it.
#![allow(dead_code)]

use std::net::TcpListener as StdListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Driver {
    http: reqwest::blocking::Client,
    base: String,
    session: String,
}

impl Driver {
    pub fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
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
    pub fn command(&self, what: &str, method: reqwest::Method, path: &str, body: Value) -> Value {
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
    pub fn save_page(&self) -> String {
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

    pub fn try_find(&self, css: &str) -> Option<String> {
        let v = self.call(
            reqwest::Method::POST,
            "/element",
            json!({ "using": "css selector", "value": css }),
        );
        v[ELEMENT].as_str().map(str::to_owned)
    }

    /// Find `css`, polling up to 30 s (the UI answers asynchronously).
    pub fn find(&self, css: &str) -> String {
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

    pub fn click(&self, testid: &str) {
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

    pub fn type_into(&self, testid: &str, text: &str) {
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

    pub fn text(&self, testid: &str) -> String {
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

    pub fn wait(&self, css: &str) {
        self.find(css);
    }

    /// Draw a stroke on the signature pad with pointer actions, the way a finger would: press,
    /// move across the middle of the pad, release.
    pub fn draw_signature(&self) {
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

impl Driver {
    /// The attribute `name` of the element with `testid` (waits for the element).
    pub fn attribute(&self, testid: &str, name: &str) -> String {
        let e = self.find(&format!("[data-testid=\"{testid}\"]"));
        self.call(
            reqwest::Method::GET,
            &format!("/element/{e}/attribute/{name}"),
            Value::Null,
        )
        .as_str()
        .unwrap_or_else(|| panic!("{testid} has the attribute {name}"))
        .to_owned()
    }

    /// Choose `value` in the `<select>` with `testid` (the way a user picks an option).
    pub fn select(&self, testid: &str, value: &str) {
        let css = format!("[data-testid=\"{testid}\"] option[value=\"{value}\"]");
        let e = self.find(&css);
        self.command(
            &format!("select {value} in {testid}"),
            reqwest::Method::POST,
            &format!("/element/{e}/click"),
            json!({}),
        );
    }

    /// Drag the element `from` onto `to` (both test ids). WebDriver's pointer actions do not
    /// start an HTML5 drag in WebKit, so the drag is the browser's own event sequence — dragstart
    /// on the card, dragover and drop on the lane, dragend — carrying one `DataTransfer`, which is
    /// what a mouse drag delivers to the page's handlers.
    pub fn drag(&self, from: &str, to: &str) {
        let a = self.find(&format!("[data-testid=\"{from}\"]"));
        let b = self.find(&format!("[data-testid=\"{to}\"]"));
        let script = "const [src, dst] = arguments; const dt = new DataTransfer(); \
            const fire = (el, type) => el.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt })); \
            src.scrollIntoView({ block: 'center' }); fire(src, 'dragstart'); \
            dst.scrollIntoView({ block: 'center' }); fire(dst, 'dragenter'); fire(dst, 'dragover'); \
            const dropped = !fire(dst, 'drop'); fire(src, 'dragend'); return dropped;";
        let dropped = self.command(
            &format!("drag {from} onto {to}"),
            reqwest::Method::POST,
            "/execute/sync",
            json!({ "script": script, "args": [{ ELEMENT: a }, { ELEMENT: b }] }),
        );
        assert_eq!(
            dropped,
            Value::Bool(true),
            "{to} accepts the drop of {from} (its drop handler took the event)"
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
pub fn app_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_onsite-desktop"))
}

/// One app window under WebDriver. Its data, config and home folders are under `dir`, so the
/// app starts as on a new device; dropping it ends the session and stops the driver.
pub struct Window {
    pub driver: Driver,
    _process: DriverProcess,
}

impl Window {
    pub fn open(dir: &Path) -> Window {
        let bin = app_binary();
        assert!(
            bin.exists(),
            "cargo builds the app binary for this test ({} missing)",
            bin.display()
        );
        let port = free_port();
        let native = free_port();
        let process = DriverProcess(
            Command::new("tauri-driver")
                .args([
                    "--port",
                    &port.to_string(),
                    "--native-port",
                    &native.to_string(),
                ])
                .env("XDG_DATA_HOME", dir.join("data"))
                .env("XDG_CONFIG_HOME", dir.join("config"))
                .env("HOME", dir.join("home"))
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
        Window {
            driver: Driver {
                http,
                base,
                session,
            },
            _process: process,
        }
    }

    /// Sign in on the app's sign-in screen.
    pub fn sign_in(&self, relay_url: &str, user: &str, password: &str) {
        let d = &self.driver;
        d.type_into("signin-relay", relay_url);
        d.type_into("signin-user", user);
        d.type_into("signin-password", password);
        d.click("signin-submit");
    }
}

impl Drop for Window {
    fn drop(&mut self) {
        self.driver.call(reqwest::Method::DELETE, "", Value::Null);
    }
}
