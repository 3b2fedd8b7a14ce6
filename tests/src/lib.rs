//! Devices for the end-to-end tests in `tests/tests/`: a store in a temp dir plus the sync
//! client, signed in to a relay. The relay itself is the test kit's `Seeded`
//! (`onsite_testkit::relay`), or a child process a fault test kills ([`relay_process`]); the
//! fault tests put a misbehaving network between them ([`proxy`]).

pub mod proxy;
pub mod relay_process;

use std::sync::{Arc, Mutex};

use onsite_client::{Session, SharedStore, SyncReport, Transport};
use onsite_domain::{DocId, Millis};
use onsite_store::Store;
use onsite_testkit::PASSWORD;
use onsite_testkit::job::{signature_png, signed_job_edits};

/// One device: its own store in a temp dir, signed in as `user`.
pub struct Device {
    pub user: String,
    pub store: SharedStore,
    pub session: Session,
    relay_url: String,
    _dir: tempfile::TempDir,
}

impl Device {
    /// A fresh device that signs in as `user` at `relay_url`.
    pub async fn sign_in(relay_url: &str, user: &str) -> Device {
        Device::sign_in_with(relay_url, user, &Transport::default()).await
    }

    /// A fresh device with `transport` (e.g. trusting a centre's CA) that signs in as `user`.
    pub async fn sign_in_with(relay_url: &str, user: &str, transport: &Transport) -> Device {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open_in(dir.path()).expect("open device store");
        let store: SharedStore = Arc::new(Mutex::new(store));
        // The tests' relays are seeded on the tests' day, the relay's history window measured from
        // the real clock: a staff device holds the whole history (windows: sync-server's
        // history.rs and onsite-app's replica.rs).
        onsite_client::set_history_window(&store, 0).expect("hold the whole history");
        let session = onsite_client::sign_in_with(
            &store,
            transport,
            relay_url,
            user,
            PASSWORD,
            &Default::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("{user} signs in: {e}"));
        Device {
            user: user.to_owned(),
            store,
            session,
            relay_url: relay_url.to_owned(),
            _dir: dir,
        }
    }

    /// The device whose store a test signed in earlier and let a child process use
    /// ([`Device::into_dir`]): the store opened again on `dir`, as after a restart.
    pub fn open(dir: tempfile::TempDir, relay_url: &str) -> Device {
        let store = Store::open_in(dir.path()).expect("open device store again");
        let store: SharedStore = Arc::new(Mutex::new(store));
        let session = Session::load(&store)
            .expect("read the session")
            .expect("the device is signed in");
        Device {
            user: session.user_id.clone(),
            store,
            session,
            relay_url: relay_url.to_owned(),
            _dir: dir,
        }
    }

    /// Close the store and keep its folder (for a child process, then [`Device::open`]).
    pub fn into_dir(self) -> tempfile::TempDir {
        self._dir
    }

    /// Sync with the relay (the session's URL) until quiescent.
    pub async fn sync(&self) -> Result<SyncReport, onsite_client::ClientError> {
        let relay = onsite_client::Relay::for_device(&self.store, &self.relay_url)?;
        let session = Session::load(&self.store)?.expect("signed in");
        onsite_client::sync_once(&self.store, &relay, &session, |_, _| {}).await
    }

    /// Point the device at another relay address (after a restart on a new port).
    pub fn set_relay(&mut self, url: &str) {
        self.relay_url = url.to_owned();
    }

    pub fn with_store<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        let mut guard = self.store.lock().expect("store lock");
        f(&mut guard)
    }

    /// Orders this device holds.
    pub fn order_ids(&self) -> Vec<String> {
        self.with_store(|s| {
            s.list_doc_ids()
                .expect("list docs")
                .into_iter()
                .filter_map(|d| match d {
                    DocId::Order(id) => Some(id),
                    _ => None,
                })
                .collect()
        })
    }

    /// Do a whole job on `order_id` offline, up to and including the customer's signature.
    pub fn complete_job(&self, order_id: &str, now: Millis) -> onsite_domain::visit::Visit {
        let tech = self.user.clone();
        self.with_store(|s| {
            let order: onsite_domain::order::Order = s
                .read(&DocId::Order(order_id.to_owned()))
                .expect("order on device");
            s.start_visit(order_id, &tech).expect("start visit");
            let sha = s
                .put_attachment(&signature_png(), "image/png")
                .expect("store signature");
            let edits = signed_job_edits(
                order.service_type,
                &format!("{order_id}-{tech}"),
                &order.customer.name,
                &sha,
            );
            let mut t = now;
            let mut visit = None;
            for e in edits {
                t += 60_000;
                visit = Some(
                    s.apply_visit_edit(order_id, &tech, e.clone(), t)
                        .unwrap_or_else(|err| panic!("{e:?} refused: {err}")),
                );
            }
            visit.expect("the job has edits")
        })
    }
}
