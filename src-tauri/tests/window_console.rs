//! Real-window test of the dispatcher's console: `disp` signs in to the built app in a WebKitGTK
//! window (through `tauri-driver` under `xvfb-run`), takes in an order, assigns it by dragging it
//! onto a technician's lane, and watches the completion arrive — the technician is a second device
//! driven through the app's API in this process, and the window is never refreshed: push → sync →
//! `order-completed` event → toast.
//!
//! `xvfb-run -a cargo test -p onsite-desktop --features e2e --test window_console`.

mod driver;

use std::path::Path;
use std::time::{Duration, Instant};

use driver::Window;
use onsite_app::App;
use onsite_app::view::SignInRequest;
use onsite_domain::DocId;
use onsite_domain::order::Order;
use onsite_testkit::PASSWORD;
use onsite_testkit::clock::wall_clock_day;
use onsite_testkit::job::{signature_png, signed_job_edits};
use onsite_testkit::relay::Seeded;

/// Poll `done` every 100 ms for up to 60 s; fails with `what` when it never holds.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// tech.a's device: the real app state on its own folder, signed in to the relay, syncing.
fn technician(rt: &tokio::runtime::Runtime, dir: &Path, relay_url: &str) -> App {
    let app = App::open(dir, onsite_app::system_clock()).expect("open the technician's app");
    rt.block_on(app.sign_in(SignInRequest {
        relay_url: relay_url.to_owned(),
        user: "tech.a".to_owned(),
        password: PASSWORD.to_owned(),
        allow_plain_http: false,
    }))
    .expect("tech.a signs in");
    app
}

/// The whole demo job on `order_id` on the technician's device (checklist, readings, the
/// customer's confirmations and signature), then a sync.
fn complete_job(app: &App, order_id: &str) {
    {
        let mut store = app.store().lock().expect("store");
        let order: Order = store
            .read(&DocId::Order(order_id.to_owned()))
            .expect("the order is on the technician's device");
        store
            .start_visit(order_id, "tech.a")
            .expect("start the visit");
        let sha = store
            .put_attachment(&signature_png(), "image/png")
            .expect("store the signature");
        let mut t = (onsite_app::system_clock())();
        for e in signed_job_edits(order.service_type, "window", &order.customer.name, &sha) {
            t += 1_000;
            store
                .apply_visit_edit(order_id, "tech.a", e.clone(), t)
                .unwrap_or_else(|err| panic!("{e:?} refused: {err}"));
        }
    }
    app.sync_now()
        .expect("the technician's device syncs the completion");
}

#[test]
fn dispatcher_takes_in_an_order_assigns_it_by_drag_and_sees_its_completion_arrive() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    // The app binary reads the system clock, so the demo day is today by the wall clock.
    let seeded = rt.block_on(Seeded::start_on(wall_clock_day()));
    let window = Window::open(&seeded.dir.path().join("dispatcher"));
    let d = &window.driver;
    window.sign_in(&seeded.url, "disp", PASSWORD);
    d.wait("[data-testid=\"console\"]");

    // Intake: a new customer with a new appliance.
    d.click("console-nav-new");
    d.type_into("order-customer-name", "赵敏");
    d.type_into("order-phone", "138 0000 0099");
    d.type_into("order-address", "上海市浦东新区张江路 100 号");
    d.type_into("appliance-category", "洗衣机");
    d.type_into("appliance-brand", "Haier");
    d.type_into("appliance-model", "XQG100");
    d.type_into("appliance-serial", "SN-WINDOW-1");
    d.select("order-service-type", "Repair");
    d.type_into("order-problem", "洗衣机不脱水 / washer does not spin");
    d.click("order-save");
    let order_id = d.attribute("order-created", "data-order");
    assert!(
        order_id.starts_with("o-"),
        "the confirmation names the new order's id: {order_id}"
    );

    // Dispatch: drag it from the pool onto tech.a's lane.
    d.click("order-created-board");
    d.drag(&format!("pool-{order_id}"), "lane-tech.a");
    d.wait(&format!(
        "[data-testid=\"lane-tech.a\"] [data-testid=\"unscheduled-{order_id}\"]"
    ));

    // The technician's device receives it, completes it offline and syncs.
    let tech = technician(&rt, &seeded.dir.path().join("tech"), &seeded.url);
    wait_until("the assigned order reaching tech.a's device", || {
        let store = tech.store().lock().expect("store");
        store
            .read::<Order>(&DocId::Order(order_id.clone()))
            .is_ok_and(|o| o.assignee.as_deref() == Some("tech.a"))
    });
    complete_job(&tech, &order_id);

    // The dispatcher's window shows it without anyone touching it.
    d.wait(&format!(
        "[data-testid=\"toast-completion\"][data-order=\"{order_id}\"]"
    ));
    d.click("toast-completion-open");
    d.wait(&format!("[data-testid=\"completion-{order_id}-tech.a\"]"));
    drop(window);
    rt.block_on(seeded.stop());
}
