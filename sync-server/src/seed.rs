//! `onsite-relay seed`: a demo company — reference documents, an admin, a dispatcher, two
//! technicians with profiles and stock ledgers, the customer registry's households, a day of
//! orders assigned to them, and each of those orders' households' past orders (completed, with
//! signed visits), the bonus formula (`ref:bonus`) and a few months of signed jobs at more
//! households for the statistics (`seed_history`). The documents are stored through the normal sync path (as the admin), so they
//! are numbered in the feed and access events exist exactly as if a dispatcher had made them.

use automerge::AutoCommit;
use onsite_domain::bonus::BonusVersions;
use onsite_domain::edit::{self, EditContext};
use onsite_domain::ledger::{EntryKind, StockLedger};
use onsite_domain::order::Order;
use onsite_domain::reference::TechnicianProfile;
use onsite_domain::service::ServiceSettings;
use onsite_domain::sla::SlaPolicy;
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, DomainError, HOUR, Millis, doc, seed, seed_history, templates};
use onsite_sync::access::Principal;
use onsite_sync::device::{self, PeerState};
use onsite_sync::relay::{Caller, HandleError};
use onsite_wire::Role;

use crate::accounts::{self, AuthError};
use crate::config::Config;
use crate::storage::{DEFAULT_CENTRE, RelayStorage, StorageError, StoredAttachment};

/// What `seed` created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedSummary {
    /// (user id, role, display name).
    pub users: Vec<(String, Role, String)>,
    pub orders: Vec<DocId>,
    /// Completed past orders: the same households' ([`seed::past_order`]) and the statistics'
    /// history ([`seed_history`]).
    pub past_orders: Vec<DocId>,
    pub documents: usize,
    pub head: u64,
}

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("storing the demo documents failed: {0}")]
    Sync(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The demo technicians: (id, name, phone, certificate).
pub const TECHNICIANS: [(&str, &str, &str, &str); 2] = [
    ("tech.a", "张师傅 Zhang", "13900000001", "CERT-HA-0001"),
    ("tech.b", "李师傅 Li", "13900000002", "CERT-HA-0002"),
];
/// The demo dispatcher's user id.
pub const DISPATCHER: &str = "disp";
/// The demo administrator's user id.
pub const ADMIN: &str = "admin";

/// Create the demo company with every account using `password`, and `orders` orders for the day
/// starting at `day_start`, alternately assigned to the two technicians, followed by
/// [`seed::UPCOMING_ORDERS`] orders a week later.
pub fn seed_demo(
    storage: &dyn RelayStorage,
    config: &Config,
    password: &str,
    orders: u32,
    day_start: Millis,
    now: Millis,
) -> Result<SeedSummary, SeedError> {
    let users = add_accounts(storage, password, now)?;
    let mut docs: Vec<(DocId, AutoCommit)> = vec![
        (
            DocId::Templates,
            doc::create(&templates::builtin_library())?,
        ),
        (
            DocId::FeeSchedule,
            doc::create(&seed::fee_schedule(day_start - seed::YEAR))?,
        ),
        (
            DocId::PartsCatalogue,
            doc::create(&seed::parts_catalogue())?,
        ),
        // stats: the centre's bonus formula, in force for a year.
        (DocId::Bonus, doc::create(&bonus_versions(day_start)?)?),
    ];
    let profiles = technicians(&mut docs, day_start, now)?;
    let order_ids = day_orders(&mut docs, &profiles, orders, day_start, now)?;

    // registry: the demo households, so a dispatcher's registry has customers to find.
    for h in 0..seed::HOUSEHOLDS {
        let household = seed::household(h, day_start);
        let id = DocId::Household(household.household_id.clone());
        docs.push((id, doc::create(&household)?));
    }

    // followups: the centre's service settings (follow-up calls, maintenance intervals).
    let settings = service_settings(day_start);
    docs.push((DocId::ServiceSettings, doc::create(&settings)?));

    let mut past_orders = past_jobs(storage, &mut docs, &profiles, orders, day_start, now)?;
    past_orders.extend(history(
        storage, &mut docs, &profiles, &settings, day_start, now,
    )?);
    commit_as_admin(storage, config, &mut docs, now)?;
    Ok(SeedSummary {
        users,
        orders: order_ids,
        past_orders,
        documents: docs.len(),
        head: storage.head_seq()?,
    })
}

/// The admin, the dispatcher and the technicians, each with `password`.
fn add_accounts(
    storage: &dyn RelayStorage,
    password: &str,
    now: Millis,
) -> Result<Vec<(String, Role, String)>, SeedError> {
    let mut users = vec![
        (ADMIN.to_owned(), Role::Admin, "Administrator".to_owned()),
        (
            DISPATCHER.to_owned(),
            Role::Dispatcher,
            "王调度 Wang (dispatch)".to_owned(),
        ),
    ];
    for (id, name, _, _) in TECHNICIANS {
        users.push((id.to_owned(), Role::Technician, name.to_owned()));
    }
    for (id, role, name) in &users {
        accounts::add_user(storage, id, name, *role, password, now)?;
    }
    Ok(users)
}

/// Each technician's profile and a ledger with the day's stock issued; returns the profiles.
fn technicians(
    docs: &mut Vec<(DocId, AutoCommit)>,
    day_start: Millis,
    now: Millis,
) -> Result<Vec<TechnicianProfile>, SeedError> {
    let mut profiles = Vec::new();
    for (id, name, phone, cert) in TECHNICIANS {
        let p = seed::technician(id, name, phone, cert, now);
        docs.push((DocId::Profile(id.to_owned()), doc::create(&p)?));
        let mut ledger = StockLedger::new(id);
        for (n, (part, qty)) in [
            ("AC-CAP-35UF", 4),
            ("GEN-FUSE-10A", 10),
            ("WM-DRAIN-PUMP", 1),
        ]
        .into_iter()
        .enumerate()
        {
            ledger.record(
                &format!("{id}-issue-{n}"),
                part,
                EntryKind::Issued,
                qty,
                DISPATCHER,
                "领料 / stock issued for the day",
                day_start,
            )?;
        }
        docs.push((DocId::Ledger(id.to_owned()), doc::create(&ledger)?));
        profiles.push(p);
    }
    Ok(profiles)
}

/// `orders` orders on the demo day and [`seed::UPCOMING_ORDERS`] a week later, assigned in turn
/// to `profiles`; returns their ids.
fn day_orders(
    docs: &mut Vec<(DocId, AutoCommit)>,
    profiles: &[TechnicianProfile],
    orders: u32,
    day_start: Millis,
    now: Millis,
) -> Result<Vec<DocId>, SeedError> {
    let mut order_ids = Vec::new();
    for n in 0..orders + seed::UPCOMING_ORDERS {
        let day = if n < orders {
            day_start
        } else {
            day_start + seed::UPCOMING_AFTER_DAYS * 24 * HOUR
        };
        let mut o = Order::create(seed::order(n, day), &SlaPolicy::default(), now)?;
        let to = &profiles[(n as usize) % profiles.len()];
        o.assign(&format!("seed-{n}"), to, "", DISPATCHER, now + HOUR / 60)?;
        let id = DocId::Order(o.order_id.clone());
        order_ids.push(id.clone());
        docs.push((id, doc::create(&o)?));
    }
    Ok(order_ids)
}

/// Store `docs` through the relay's own sync path, as the admin's "seed" device: the same rules
/// as any device's upload; a refusal fails the seed (and a benchmark's setup, which uses it too).
pub fn commit_as_admin(
    storage: &dyn RelayStorage,
    config: &Config,
    docs: &mut [(DocId, AutoCommit)],
    now: Millis,
) -> Result<(), SeedError> {
    let messages = docs
        .iter_mut()
        .filter_map(|(id, d)| device::outgoing(d, &PeerState::new()).map(|m| (id.clone(), m)))
        .collect();
    let caller = Caller {
        principal: Principal {
            user_id: ADMIN.to_owned(),
            role: Role::Admin,
            centre: DEFAULT_CENTRE.to_owned(),
        },
        device_id: "seed".to_owned(),
    };
    let req = device::build_request(storage.head_seq()?, messages);
    let handled = storage
        .sync(&caller, &req, &config.limits(), now)
        .map_err(|e| match e {
            HandleError::Refused(e) => SeedError::Sync(e.to_string()),
            HandleError::Storage(e) => SeedError::Storage(e),
        })?;
    if let Some(r) = handled.response.rejected.first() {
        return Err(SeedError::Sync(format!("{}: {}", r.code, r.message)));
    }
    Ok(())
}

/// The demo centre's `ref:service`: follow-up calls started 90 days before the demo day, so the
/// past jobs signed 60 days before are waiting for theirs.
fn service_settings(day_start: Millis) -> ServiceSettings {
    seed::service_settings(day_start - 90 * 24 * HOUR)
}

/// The past orders of the households of the first (up to four) demo orders, each assigned to the
/// technician who has that household today and completed with a signed visit
/// ([`seed::job_edits`] + [`seed::sign_edit`]), appended to `docs`. The signature image is stored
/// as that technician's attachment so their device can fetch it.
fn past_jobs(
    storage: &dyn RelayStorage,
    docs: &mut Vec<(DocId, AutoCommit)>,
    profiles: &[TechnicianProfile],
    orders: u32,
    day_start: Millis,
    now: Millis,
) -> Result<Vec<DocId>, SeedError> {
    let library = templates::builtin_library();
    let fees = seed::fee_schedule(day_start - seed::YEAR);
    let parts = seed::parts_catalogue();
    // A handwritten-looking stroke (not the tests' one-pixel signature, so it never pre-fills
    // their attachment checks).
    let past_signature = onsite_record::signature::demo_signature();
    let signature = past_signature.sha256.clone();
    let mut ids = Vec::new();
    for n in 0..orders.min(4) {
        let profile = &profiles[(n as usize) % profiles.len()];
        storage.put_attachment(
            &StoredAttachment {
                sha256: signature.clone(),
                mime: "image/png".to_owned(),
                bytes: past_signature.png.clone(),
                uploaders: vec![profile.technician_id.clone()],
                uploader_centres: Vec::new(),
            },
            now,
        )?;
        for k in 0..seed::PAST_ORDERS {
            let new = seed::past_order(n, k, day_start);
            let created = new
                .schedule
                .as_ref()
                .map_or(now, |w| w.start_ms - 24 * HOUR);
            let mut order = Order::create(new, &SlaPolicy::default(), created)?;
            order.assign(
                &format!("seed-past-{n}-{k}"),
                profile,
                "",
                DISPATCHER,
                created,
            )?;
            let mut visit = Visit::start(&order, &profile.technician_id, &library)?;
            let prefix = format!("{}-seed", order.order_id);
            let mut edits = seed::job_edits(order.service_type, &prefix);
            edits.push(seed::sign_edit(&prefix, &order.customer.name, &signature));
            let mut at = order.schedule.as_ref().map_or(created, |w| w.start_ms);
            for e in edits {
                at += 60_000;
                let ctx = EditContext {
                    order: &order,
                    library: &library,
                    fees: &fees,
                    parts: &parts,
                    profile,
                    device_id: "seed",
                    now: at,
                };
                edit::apply(&mut visit, e, &ctx)?;
            }
            let id = DocId::Order(order.order_id.clone());
            docs.push((id.clone(), doc::create(&order)?));
            docs.push((
                DocId::visit(&order.order_id, &profile.technician_id),
                doc::create(&visit)?,
            ));
            ids.push(id);
        }
    }
    Ok(ids)
}

/// stats: the `ref:bonus` document with the demo formula ([`seed::bonus_formula`]) as its first
/// version, in force since a year before the demo day.
fn bonus_versions(day_start: Millis) -> Result<BonusVersions, SeedError> {
    BonusVersions::first(seed::bonus_formula(day_start - seed::YEAR))
        .map_err(|e| SeedError::Sync(e.to_string()))
}

/// stats: the months of signed jobs before the demo day ([`seed_history`]) and their households,
/// appended to `docs`, so the statistics have history; followups: their calls made but the last
/// week's ([`seed_history::answer_calls`]). The signature image is stored as every technician's
/// attachment.
fn history(
    storage: &dyn RelayStorage,
    docs: &mut Vec<(DocId, AutoCommit)>,
    profiles: &[TechnicianProfile],
    settings: &ServiceSettings,
    day_start: Millis,
    now: Millis,
) -> Result<Vec<DocId>, SeedError> {
    let library = templates::builtin_library();
    let fees = seed::fee_schedule(day_start - seed::YEAR);
    let parts = seed::parts_catalogue();
    let signature = onsite_record::signature::demo_signature();
    storage.put_attachment(
        &StoredAttachment {
            sha256: signature.sha256.clone(),
            mime: "image/png".to_owned(),
            bytes: signature.png.clone(),
            uploaders: profiles.iter().map(|p| p.technician_id.clone()).collect(),
            uploader_centres: Vec::new(),
        },
        now,
    )?;
    for h in 0..seed_history::HOUSEHOLDS {
        let household = seed_history::household(h, day_start);
        let id = DocId::Household(household.household_id.clone());
        docs.push((id, doc::create(&household)?));
    }
    let ctx = seed_history::HistoryContext {
        library: &library,
        fees: &fees,
        parts: &parts,
        technicians: profiles,
        signature_sha256: &signature.sha256,
        device_id: "seed",
    };
    let mut jobs = seed_history::jobs(&ctx, day_start)?;
    seed_history::answer_calls(&mut jobs, settings, day_start)?;
    let mut ids = Vec::new();
    for (order, visit) in jobs {
        let id = DocId::Order(order.order_id.clone());
        docs.push((id.clone(), doc::create(&order)?));
        docs.push((
            DocId::visit(&order.order_id, &visit.technician_id),
            doc::create(&visit)?,
        ));
        ids.push(id);
    }
    Ok(ids)
}
