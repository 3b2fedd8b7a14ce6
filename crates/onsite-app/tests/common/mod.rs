//! What the app's tests share (each test file uses part of it): the device on the test kit's
//! clock, sync settings fast enough for a test, and signing in to a relay on 127.0.0.1.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use onsite_app::view::{Session, SignInRequest};
use onsite_app::{App, Clock, SyncConfig};
use onsite_domain::{DocId, HOUR};
use onsite_testkit::job::{signature_png, signed_job_edits};
use onsite_testkit::{DAY, PASSWORD, ticking_clock};

/// The device's clock: the tests' day from 08:00, one second further on each reading.
pub fn device_clock() -> Clock {
    ticking_clock(DAY + 8 * HOUR, 1_000)
}

/// Sync settings for tests: quick debounce and back-off, a poll every half second.
pub fn fast_sync() -> SyncConfig {
    SyncConfig {
        debounce: Duration::from_millis(20),
        backoff_min: Duration::from_millis(50),
        backoff_max: Duration::from_millis(500),
        poll_every: Duration::from_millis(500),
        ..SyncConfig::default()
    }
}

/// [`fast_sync`] without polling: what arrives must come through push.
pub fn push_only_sync() -> SyncConfig {
    SyncConfig {
        poll_every: Duration::from_secs(600),
        ..fast_sync()
    }
}

/// The app on the device folder `dir`: the tests' clock, "today" counted in UTC, fast sync.
/// The tests' relay data is stamped on the tests' day while the relay's window is measured from
/// the real clock: a device holds the whole history unless a test sets a window
/// (`replica.rs`).
pub fn open(dir: &Path) -> App {
    let app = App::open(dir, device_clock())
        .expect("open the app")
        .with_utc_offset_minutes(0)
        .with_sync_config(fast_sync());
    app.set_history_window(0).expect("hold the whole history");
    app
}

/// Sign `app` in as `user` (the test password) at the relay `url`.
pub async fn sign_in(app: &App, url: &str, user: &str) -> Session {
    let session = app
        .sign_in(SignInRequest {
            relay_url: url.to_owned(),
            user: user.to_owned(),
            password: PASSWORD.to_owned(),
            allow_plain_http: false,
        })
        .await
        .expect("sign in");
    assert_eq!(session.technician_id, user, "signed in as {user}");
    session
}

/// [`open`] on `dir`, signed in as `user` at `url`.
pub async fn signed_in(dir: &Path, url: &str, user: &str) -> App {
    let app = open(dir);
    sign_in(&app, url, user).await;
    app
}

/// Do the whole demo job on `order_id` on the technician's device, signature included.
pub fn complete_job(app: &App, order_id: &str, tech: &str) {
    let mut store = app.store().lock().expect("store");
    let order: onsite_domain::order::Order = store
        .read(&DocId::Order(order_id.to_owned()))
        .expect("order on the technician's device");
    store.start_visit(order_id, tech).expect("start the visit");
    let sha = store
        .put_attachment(&signature_png(), "image/png")
        .expect("store the signature");
    let mut t = DAY + 14 * HOUR;
    for e in signed_job_edits(order.service_type, "job", "赵敏", &sha) {
        t += 60_000;
        store
            .apply_visit_edit(order_id, tech, e.clone(), t)
            .unwrap_or_else(|err| panic!("{e:?} refused: {err}"));
    }
}
