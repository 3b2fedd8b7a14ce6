//! Real-window end-to-end test: the built app in a WebKitGTK window driven through `tauri-driver`
//! (Debian's `WebKitWebDriver`) under `xvfb-run`, against a real relay on 127.0.0.1. Signs in,
//! opens an order, answers the checklist, draws a signature on the pad and checks the signed visit
//! arrived at the relay.
//!
//! Needs a display and `tauri-driver` on PATH, so it only builds with the `e2e` feature:
//! `xvfb-run -a cargo test -p onsite-desktop --features e2e --test window`.

mod driver;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use driver::Window;
use onsite_domain::DocId;
use onsite_domain::visit::Visit;
use onsite_relay::RelayStorage;
use onsite_testkit::PASSWORD;
use onsite_testkit::clock::wall_clock_day;
use onsite_testkit::relay::Seeded;

#[test]
fn technician_completes_a_job_in_the_real_window_and_the_relay_receives_it() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    // The app binary reads the system clock, so the demo day is today by the wall clock.
    let seeded = rt.block_on(Seeded::start_on(wall_clock_day()));
    let (dir, db) = (&seeded.dir, &seeded.db);
    let storage = onsite_relay::SqliteStorage::open(db).expect("relay db");
    let window = Window::open(dir.path());
    let d = &window.driver;

    window.sign_in(&seeded.url, "tech.a", PASSWORD);
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
    drop(window);
    rt.block_on(seeded.stop());
}
