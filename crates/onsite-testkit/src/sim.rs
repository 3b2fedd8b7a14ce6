//! A simulated network: devices holding Automerge documents with their per-document peer state,
//! and the relay's request handling behind a [`Network`] with a fake clock. No sockets, no
//! threads, no sleeps; a test delivers, drops, duplicates or delays each request itself.
//!
//! The relay side is an [`Endpoint`]: the sans-IO relay logic over the in-memory
//! [`MemoryStore`] (protocol tests), or the relay's real SQLite storage (feature `relay`,
//! benchmarks).

use std::collections::BTreeMap;
use std::ops::Range;

use automerge::AutoCommit;
use autosurgeon::{Hydrate, Reconcile};
use onsite_domain::order::Order;
use onsite_domain::reference::TechnicianProfile;
use onsite_domain::sla::SlaPolicy;
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, HOUR, Millis, doc, seed, templates};
use onsite_sync::access::Principal;
use onsite_sync::device::{self, PeerState};
use onsite_sync::memory::MemoryStore;
use onsite_sync::relay::{Caller, Limits};
use onsite_wire::{Role, SyncRequest, SyncResponse};

use crate::DAY;
use crate::clock::FakeClock;

/// Round trips [`Network::sync_until_quiet`] allows before it fails the test.
pub const MAX_ROUNDS: usize = 10;

/// The service centre of every simulated user and document.
pub const CENTRE: &str = "qd";

/// A device: its documents with per-document peer state, its feed cursor (and, while a staff
/// member's first sync reads a snapshot, its position) and the documents the relay revoked.
pub struct SimDevice {
    pub caller: Caller,
    pub cursor: u64,
    pub snapshot: Option<String>,
    pub docs: Held,
    pub revoked: Vec<DocId>,
}

/// The documents a test device holds, each with its peer state.
pub type Held = BTreeMap<DocId, (AutoCommit, PeerState)>;

/// A device's next sync request, as the real client builds it: a message for every document of
/// `docs` with something to send, the feed `cursor`, and while the cursor is 0 the position of
/// a staff member's first-sync snapshot. Shared by [`SimDevice`] and the HTTP test devices.
pub fn request(cursor: u64, snapshot: Option<&str>, docs: &mut Held) -> SyncRequest {
    let mut out = Vec::new();
    for (id, (d, st)) in docs.iter_mut() {
        if let Some(m) = device::outgoing(d, st) {
            out.push((id.clone(), m));
        }
    }
    let mut req = device::build_request(cursor, out);
    if cursor == 0 {
        req.snapshot = snapshot.map(str::to_owned);
    }
    req
}

/// Apply the relay's messages in `resp` to `docs` (a document not held yet is created). The
/// cursor, snapshot position and revocations are the caller's to take.
pub fn apply_messages(docs: &mut Held, resp: &SyncResponse) {
    for m in &resp.docs {
        let (d, st) = docs
            .entry(m.doc.clone())
            .or_insert_with(|| (AutoCommit::new(), PeerState::new()));
        device::incoming(&m.doc, d, st, &m.message).expect("relay messages apply");
    }
}

impl SimDevice {
    /// A fresh device of `user` (device id `dev-<user>`) holding nothing.
    pub fn new(user: &str, role: Role) -> SimDevice {
        SimDevice {
            caller: Caller {
                principal: Principal {
                    user_id: user.into(),
                    role,
                    centre: CENTRE.into(),
                },
                device_id: format!("dev-{user}"),
            },
            cursor: 0,
            snapshot: None,
            docs: BTreeMap::new(),
            revoked: Vec::new(),
        }
    }

    /// A dispatcher device holding the profiles of [`technician_a`] and [`technician_b`] and
    /// `n` orders assigned alternately to them (see [`SimDevice::add_orders`]). The template
    /// library is the company's, stored by an admin when the [`Network`] is made.
    pub fn dispatcher_with_orders(n: u32) -> SimDevice {
        let mut d = SimDevice::new("disp", Role::Dispatcher);
        d.put(DocId::Profile("tech.a".into()), &technician_a());
        d.put(DocId::Profile("tech.b".into()), &technician_b());
        d.add_orders(0..n, DAY + HOUR);
        d
    }

    /// Create demo orders `range` (ids [`order_id`]), assigned at `at` alternately to
    /// [`technician_a`] (even numbers) and [`technician_b`] (odd).
    pub fn add_orders(&mut self, range: Range<u32>, at: Millis) {
        let (a, b) = (technician_a(), technician_b());
        for n in range {
            let mut o = Order::create(seed::order(n, DAY), &SlaPolicy::default(), DAY)
                .expect("the demo order is valid");
            let to = if n % 2 == 0 { &a } else { &b };
            o.assign(&format!("t-{n}"), to, "", "disp", at)
                .expect("the demo technicians are qualified");
            self.put(order_id(n), &o);
        }
    }

    /// Hold a new document `id` with `value`, not yet known to the relay.
    pub fn put<T: Reconcile>(&mut self, id: DocId, value: &T) {
        let d = doc::create(value).expect("the document reconciles");
        self.docs.insert(id, (d, PeerState::new()));
    }

    /// Document `id` as this device holds it.
    pub fn read<T: Hydrate>(&self, id: &DocId) -> T {
        let (d, _) = self
            .docs
            .get(id)
            .unwrap_or_else(|| panic!("{} holds {id}", self.caller.device_id));
        doc::read(d).unwrap_or_else(|e| panic!("{id} hydrates: {e}"))
    }

    /// The next sync request: a message for every document with something to send.
    pub fn request(&mut self) -> SyncRequest {
        request(self.cursor, self.snapshot.as_deref(), &mut self.docs)
    }

    /// Apply the relay's answer: its messages, revocations, the new cursor and snapshot position.
    pub fn apply(&mut self, resp: &SyncResponse) {
        apply_messages(&mut self.docs, resp);
        self.revoked.extend(resp.revocations.iter().cloned());
        self.cursor = resp.cursor;
        self.snapshot = resp.snapshot.clone();
    }

    /// How many documents hold changes the relay has not confirmed.
    pub fn unsynced(&mut self) -> usize {
        self.docs
            .values_mut()
            .map(|(d, st)| device::is_unsynced(d, st))
            .filter(|unsynced| *unsynced)
            .count()
    }

    /// Edit the order `id` as one committed change.
    pub fn edit_order(&mut self, id: &DocId, f: impl FnOnce(&mut Order)) {
        self.edit(id, f);
    }

    /// Edit the visit `id` as one committed change.
    pub fn edit_visit(&mut self, id: &DocId, f: impl FnOnce(&mut Visit)) {
        self.edit(id, f);
    }

    fn edit<T: Hydrate + Reconcile>(&mut self, id: &DocId, f: impl FnOnce(&mut T)) {
        let (d, _) = self
            .docs
            .get_mut(id)
            .expect("the device holds the document");
        let mut value: T = doc::read(d).expect("the document hydrates");
        f(&mut value);
        doc::write(d, &value).expect("the document reconciles");
        d.commit();
    }

    /// Start this technician's visit of `order` (held on the device); returns the visit's id.
    pub fn start_visit(&mut self, order: &DocId) -> DocId {
        let o: Order = self.read(order);
        let tech = self.caller.principal.user_id.clone();
        let v = Visit::start(&o, &tech, &templates::builtin_library())
            .expect("the order's templates exist");
        let id = DocId::visit(&o.order_id, &tech);
        self.put(id.clone(), &v);
        id
    }
}

/// `o-<n>` as the demo seed numbers orders.
pub fn order_id(n: u32) -> DocId {
    DocId::Order(format!("o-{n:05}"))
}

/// The profile of technician `tech.a`.
pub fn technician_a() -> TechnicianProfile {
    seed::technician("tech.a", "Zhang San", "13900000001", "CERT-A", DAY)
}

/// The profile of technician `tech.b`.
pub fn technician_b() -> TechnicianProfile {
    seed::technician("tech.b", "Li Si", "13900000002", "CERT-B", DAY)
}

/// What answers a device's sync request at `now`, as the relay would.
pub trait Endpoint {
    fn serve(
        &mut self,
        caller: &Caller,
        req: &SyncRequest,
        limits: &Limits,
        now: Millis,
    ) -> SyncResponse;
}

/// The sans-IO relay logic over the in-memory store.
impl Endpoint for MemoryStore {
    fn serve(
        &mut self,
        caller: &Caller,
        req: &SyncRequest,
        limits: &Limits,
        now: Millis,
    ) -> SyncResponse {
        onsite_sync::relay::handle(self, caller, req, limits, now)
            .expect("valid requests are handled")
            .response
    }
}

/// The relay's real storage (SQLite, one transaction per request).
#[cfg(feature = "relay")]
impl Endpoint for onsite_relay::SqliteStorage {
    fn serve(
        &mut self,
        caller: &Caller,
        req: &SyncRequest,
        limits: &Limits,
        now: Millis,
    ) -> SyncResponse {
        onsite_relay::RelayStorage::sync(self, caller, req, limits, now)
            .expect("valid requests are handled")
            .response
    }
}

/// The relay's storage whichever the backend ([`crate::backend::open`]).
#[cfg(feature = "relay")]
impl Endpoint for std::sync::Arc<dyn onsite_relay::RelayStorage> {
    fn serve(
        &mut self,
        caller: &Caller,
        req: &SyncRequest,
        limits: &Limits,
        now: Millis,
    ) -> SyncResponse {
        self.sync(caller, req, limits, now)
            .expect("valid requests are handled")
            .response
    }
}

/// The network between devices and one relay endpoint, with the relay's fake clock.
pub struct Network<E> {
    pub relay: E,
    pub limits: Limits,
    pub clock: FakeClock,
}

impl Network<MemoryStore> {
    /// An empty in-memory relay.
    pub fn in_memory() -> Network<MemoryStore> {
        Network::new(MemoryStore::new())
    }
}

impl<E: Endpoint> Network<E> {
    /// A network to `relay` with default limits and the clock at [`DAY`], the company's template
    /// library stored by an admin (company-wide reference documents are the admins' to write).
    pub fn new(relay: E) -> Network<E> {
        let mut net = Network {
            relay,
            limits: Limits::default(),
            clock: FakeClock::new(),
        };
        let mut admin = SimDevice::new("admin", Role::Admin);
        admin.put(DocId::Templates, &templates::builtin_library());
        net.sync_until_quiet(&mut admin);
        net
    }

    /// Deliver `req` from `caller` and return the relay's answer (not applied anywhere).
    pub fn serve(&mut self, caller: &Caller, req: &SyncRequest) -> SyncResponse {
        let now = self.clock.tick();
        self.relay.serve(caller, req, &self.limits, now)
    }

    /// One request of `dev` and its response, not applied.
    pub fn exchange(&mut self, dev: &mut SimDevice) -> SyncResponse {
        let req = dev.request();
        self.serve(&dev.caller, &req)
    }

    /// Sync `dev` over a perfect network until nothing is left; returns the round trips.
    pub fn sync_until_quiet(&mut self, dev: &mut SimDevice) -> usize {
        for round in 1..=MAX_ROUNDS {
            let resp = self.exchange(dev);
            dev.apply(&resp);
            if !resp.more && dev.unsynced() == 0 {
                return round;
            }
        }
        panic!("sync did not become quiet in {MAX_ROUNDS} round trips");
    }
}

impl Network<MemoryStore> {
    /// Whether `dev` holds exactly the relay's heads of document `id`.
    pub fn converged(&self, dev: &mut SimDevice, id: &DocId) -> bool {
        let (d, _) = dev.docs.get_mut(id).expect("the device holds the document");
        let bytes = self
            .relay
            .doc_bytes(id)
            .expect("the relay holds the document");
        let mut relay_doc = AutoCommit::load(bytes).expect("the relay's document loads");
        d.get_heads() == relay_doc.get_heads()
    }
}

/// Small deterministic generator (xorshift64*) for fault injection.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}
