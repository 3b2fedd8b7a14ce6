//! The relay's database before the load run: one dispatcher, `N` technicians (one PHC string
//! hashed once and reused), each with a profile and orders assigned to them, written through the
//! relay's own storage as a dispatcher's sync requests (no HTTP, before the relay starts), on
//! whichever backend the relay's `database` setting names (SQLite file or PostgreSQL URL).

use std::path::Path;
use std::time::Instant;

use onsite_domain::order::Order;
use onsite_domain::reference::TechnicianProfile;
use onsite_domain::sla::SlaPolicy;
use onsite_domain::{DocId, Millis, seed, templates};
use onsite_relay::RelayStorage;
use onsite_relay::storage::User;
use onsite_sync::relay::Limits;
use onsite_testkit::sim::SimDevice;
use onsite_wire::Role;

use super::LoadError;

/// Technicians whose profiles and orders go to the relay in one dispatcher request batch.
const CHUNK: usize = 50;

/// One simulated technician: account, profile and the orders assigned to them.
#[derive(Debug, Clone)]
pub struct Technician {
    pub user_id: String,
    pub profile: TechnicianProfile,
    pub orders: Vec<DocId>,
}

/// What [`prepare`] wrote.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// Midnight (UTC) of the day the orders are scheduled on.
    pub day: Millis,
    pub technicians: Vec<Technician>,
}

/// `tech-00001`, … .
pub fn technician_id(i: u32) -> String {
    format!("tech-{:05}", i + 1)
}

/// Fill the relay database `db` names (a SQLite path or a `postgres://` URL; created and
/// migrated if needed) with `devices` technicians of `orders_per_device` orders each,
/// all accounts with `password`, at wall-clock time `now`.
pub fn prepare(
    db: &Path,
    devices: u32,
    orders_per_device: u32,
    password: &str,
    now: Millis,
) -> Result<Fleet, LoadError> {
    let storage = onsite_relay::storage::open(db)?;
    let storage = storage.as_ref();
    let hash = onsite_relay::accounts::hash_password(password)
        .map_err(|e| LoadError::Setup(e.to_string()))?;
    let user = |user_id: String, role: Role| User {
        display_name: user_id.clone(),
        user_id,
        role,
        password_hash: hash.clone(),
        disabled: false,
        created_at_ms: now,
        centre: onsite_relay::storage::DEFAULT_CENTRE.to_owned(),
    };
    storage.add_user(&user("disp".into(), Role::Dispatcher))?;
    let day = now - now.rem_euclid(24 * onsite_domain::HOUR);
    let mut technicians = Vec::with_capacity(devices as usize);
    for i in 0..devices {
        let user_id = technician_id(i);
        storage.add_user(&user(user_id.clone(), Role::Technician))?;
        let phone = format!("139{:08}", i + 1);
        let profile = seed::technician(&user_id, &user_id, &phone, &format!("CERT-{user_id}"), day);
        let orders = (0..orders_per_device)
            .map(|k| DocId::Order(format!("o-{:07}", i * orders_per_device + k)))
            .collect();
        technicians.push(Technician {
            user_id,
            profile,
            orders,
        });
    }
    let limits = onsite_relay::Config::default().limits();
    // The company-wide reference documents are the admins' to write.
    let mut admin = device(storage, "admin", Role::Admin)?;
    admin.put(DocId::Templates, &templates::builtin_library());
    admin.put(DocId::FeeSchedule, &seed::fee_schedule(day - seed::YEAR));
    admin.put(DocId::PartsCatalogue, &seed::parts_catalogue());
    upload(storage, &mut admin, &limits, now)?;
    for chunk in technicians.chunks(CHUNK) {
        let mut disp = device(storage, "disp", Role::Dispatcher)?;
        for t in chunk {
            disp.put(DocId::Profile(t.user_id.clone()), &t.profile);
            for (k, id) in t.orders.iter().enumerate() {
                disp.put(id.clone(), &order(id, k as u32, t, day, now)?);
            }
        }
        upload(storage, &mut disp, &limits, now)?;
    }
    Ok(Fleet { day, technicians })
}

/// A fresh device of `user` in the default centre whose cursor is the relay's head, so its
/// answers carry only what it sends (not the whole feed again).
fn device(storage: &dyn RelayStorage, user: &str, role: Role) -> Result<SimDevice, LoadError> {
    let mut d = SimDevice::new(user, role);
    d.caller.principal.centre = onsite_relay::storage::DEFAULT_CENTRE.to_owned();
    d.cursor = storage.head_seq()?;
    Ok(d)
}

/// The demo order `k` of technician `t`, created and assigned by the dispatcher.
fn order(id: &DocId, k: u32, t: &Technician, day: Millis, now: Millis) -> Result<Order, LoadError> {
    let DocId::Order(order_id) = id else {
        unreachable!("order ids are made by prepare")
    };
    let mut new = seed::order(k, day);
    new.order_id = order_id.clone();
    new.order_no = format!("WO-LOAD-{}", &order_id[2..]);
    let mut o = Order::create(new, &SlaPolicy::default(), now)
        .map_err(|e| LoadError::Setup(format!("order {order_id}: {e}")))?;
    o.assign(&format!("a-{order_id}"), &t.profile, "", "disp", now)
        .map_err(|e| LoadError::Setup(format!("assign {order_id}: {e}")))?;
    Ok(o)
}

/// Sync `disp` into `storage` until it has nothing left to send; every document must be stored.
fn upload(
    storage: &dyn RelayStorage,
    disp: &mut SimDevice,
    limits: &Limits,
    now: Millis,
) -> Result<(), LoadError> {
    for _ in 0..100 {
        let req = disp.request();
        let handled = storage
            .sync(&disp.caller, &req, limits, now)
            .map_err(|e| LoadError::Setup(format!("dispatcher upload: {e:?}")))?;
        if let Some(r) = handled.response.rejected.first() {
            return Err(LoadError::Setup(format!(
                "the relay refused {}: {} {}",
                r.doc, r.code, r.message
            )));
        }
        disp.apply(&handled.response);
        if !handled.response.more && disp.unsynced() == 0 {
            return Ok(());
        }
    }
    Err(LoadError::Setup(
        "the dispatcher upload did not finish".into(),
    ))
}

/// Seconds since `t`, for reports.
pub(crate) fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}
