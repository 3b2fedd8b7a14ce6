//! The relay under load (issue 13 §2): many simulated devices over real HTTP.
//!
//! One process drives a relay ([`Target`]) with `N` technicians' devices ([`device::Device`]):
//! each signs in (bounded concurrency, timed apart), keeps a push stream (`/api/v1/events`) open
//! for the whole run, syncs its assigned orders once and starts a visit of each, then every
//! `burst_every` changes all its visits (a burst of `orders_per_device` changed documents) and
//! syncs — push, then pull the feed until `more` is false. Figures cover the measured window
//! after a warm-up; nothing here asserts a speed.
//!
//! The relay may run as several instances on one PostgreSQL database: device `i`
//! signs in and syncs through instance `i % N` and keeps its push stream on instance
//! `(i + 1) % N`, so with two instances every push crosses instances (PostgreSQL
//! `LISTEN`/`NOTIFY`), as behind a proxy that spreads connections.

pub mod database;
pub mod device;
pub mod prepare;
pub mod report;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use onsite_client::Relay;
use onsite_domain::{seed, templates};
use onsite_wire::SignInRequest;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::proc_stats::{self, ProcStats};
pub use database::RunDatabase;
use device::{Device, Shared, Tally};
pub use prepare::{Fleet, prepare};
pub use report::Report;

/// A load run could not be carried out (distinct from errors the relay answered, which are
/// counted in the report).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("preparing the relay database failed: {0}")]
    Setup(String),
    #[error("relay storage: {0}")]
    Storage(#[from] onsite_relay::storage::StorageError),
    #[error("client: {0}")]
    Client(#[from] onsite_client::ClientError),
    #[error("{0}")]
    Run(String),
}

/// The size and pace of a run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub devices: u32,
    /// Orders assigned to each device: each burst changes that many visits.
    pub orders_per_device: u32,
    /// Each device starts a burst this often (slots spread evenly over the devices).
    pub burst_every: Duration,
    /// Bursts before the measured window (not counted).
    pub warm_up: Duration,
    pub measure: Duration,
    /// Sign-ins (Argon2 on the relay) and first syncs at once.
    pub setup_concurrency: usize,
    /// A request with no answer after this long counts as a timeout.
    pub request_timeout: Duration,
}

impl Plan {
    /// Changes per second all devices offer together.
    pub fn offered_changes_per_sec(&self) -> f64 {
        self.devices as f64 * self.orders_per_device as f64 / self.burst_every.as_secs_f64()
    }
}

/// Event counters of the push streams.
#[derive(Default)]
struct Pushes {
    streams: AtomicU64,
    events: AtomicU64,
}

/// The relay instances a run drives.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// One base URL per instance (all on one database).
    pub urls: Vec<String>,
    /// The instances' process ids when they are child processes (memory and CPU from
    /// `/proc`); empty for a relay in this process.
    pub pids: Vec<u32>,
    /// The PostgreSQL postmaster's process id: the CPU of it and its children (the connections'
    /// backends) is reported with the relay's.
    pub postgres_pid: Option<u32>,
    /// `sqlite` or `postgres`, for the report.
    pub backend: String,
}

impl Target {
    /// One relay in this process at `url` (no `/proc` figures).
    pub fn in_process(url: String, backend: &str) -> Target {
        Target {
            urls: vec![url],
            backend: backend.to_owned(),
            ..Target::default()
        }
    }
}

/// Processes' figures at one moment (the measured window's start, then its end).
struct Snapshot {
    relays: Vec<Option<ProcStats>>,
    postgres: Option<proc_stats::TreeCpu>,
    me: Option<ProcStats>,
}

impl Snapshot {
    fn read(target: &Target) -> Snapshot {
        Snapshot {
            relays: target.pids.iter().map(|&p| ProcStats::read(p)).collect(),
            postgres: target.postgres_pid.map(proc_stats::TreeCpu::read),
            me: ProcStats::read(std::process::id()),
        }
    }

    /// The figures at the start paired with the figures now.
    fn until_now(self, target: &Target) -> Used {
        let after = Snapshot::read(target);
        Used {
            relays: self
                .relays
                .into_iter()
                .zip(after.relays)
                .map(|(b, a)| b.zip(a))
                .collect(),
            postgres_cpu: self.postgres.zip(after.postgres).map(|(b, a)| a.since(&b)),
            generator: self.me.zip(after.me),
        }
    }
}

/// Processes' figures at the window's start and end.
struct Used {
    relays: Vec<Option<(ProcStats, ProcStats)>>,
    postgres_cpu: Option<Duration>,
    generator: Option<(ProcStats, ProcStats)>,
}

/// One HTTP client per instance.
fn clients(target: &Target) -> Result<Vec<Relay>, LoadError> {
    let relays = target
        .urls
        .iter()
        .map(|u| Relay::new(u))
        .collect::<Result<Vec<_>, _>>()?;
    if relays.is_empty() {
        return Err(LoadError::Run("no relay instance to drive".into()));
    }
    Ok(relays)
}

/// Drive the relay instances of `target` with `fleet`'s technicians, all signed in with
/// `password`, as `plan` says.
pub async fn run(
    target: &Target,
    fleet: &Fleet,
    password: &str,
    plan: &Plan,
) -> Result<Report, LoadError> {
    let relays = clients(target)?;
    let shared = Arc::new(Shared {
        library: templates::builtin_library(),
        fees: seed::fee_schedule(fleet.day - seed::YEAR),
        parts: seed::parts_catalogue(),
    });
    let sampler = report::Sampler::start(target.pids.clone());
    let started = Instant::now();
    let devices = sign_in_all(&relays, fleet, password, plan.setup_concurrency).await?;
    let sign_in_secs = prepare::secs(started);

    let pushes = Arc::new(Pushes::default());
    let mut streams = open_streams(&relays, &devices, &pushes).await?;

    let started = Instant::now();
    let (devices, setup_tally) = first_syncs(&relays, devices, &shared, plan).await?;
    let first_sync_secs = prepare::secs(started);

    let window = Window::after(plan.warm_up, plan.measure);
    let before = Snapshot::read(target);
    let events_before = pushes.events.load(Ordering::Relaxed);
    sampler.mark(window.measure_start);
    let (devices, measured, all) = drive_all(&relays, devices, &shared, plan, &window).await;
    let used = before.until_now(target);
    // The window plus the last bursts' tail (a request may outlast the window).
    let measured_for = window.measure_start.elapsed();
    let events_measured = pushes.events.load(Ordering::Relaxed) - events_before;
    streams.abort_all();
    let mut everything = setup_tally;
    everything.add(all);
    Ok(Report::new(report::Inputs {
        plan,
        backend: target.backend.clone(),
        instances: target.urls.len(),
        sign_in_secs,
        first_sync_secs,
        measured,
        everything,
        edits: devices.iter().map(|d| d.edits).sum(),
        unsynced: devices.into_iter().map(|mut d| d.sim.unsynced()).sum(),
        push_streams: pushes.streams.load(Ordering::Relaxed),
        push_events: pushes.events.load(Ordering::Relaxed),
        push_events_measured: events_measured,
        relays: used.relays,
        postgres_cpu: used.postgres_cpu,
        measured_for,
        generator: used.generator,
        samples: sampler.stop().await,
    }))
}

/// The instance device `i` syncs through.
fn sync_via(relays: &[Relay], i: usize) -> Relay {
    relays[i % relays.len()].clone()
}

/// The instance device `i` keeps its push stream on (another one when there are several).
fn push_via(relays: &[Relay], i: usize) -> Relay {
    relays[(i + 1) % relays.len()].clone()
}

/// Sign every technician in over HTTP, `concurrency` at once.
async fn sign_in_all(
    relays: &[Relay],
    fleet: &Fleet,
    password: &str,
    concurrency: usize,
) -> Result<Vec<Device>, LoadError> {
    let turns = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut set = JoinSet::new();
    for (i, t) in fleet.technicians.iter().enumerate() {
        let (relay, turns, t) = (sync_via(relays, i), turns.clone(), t.clone());
        let password = password.to_owned();
        set.spawn(async move {
            let _turn = turns
                .acquire_owned()
                .await
                .expect("the semaphore stays open");
            let mut device = Device::new(&t.user_id, String::new(), t.profile.clone());
            let req = SignInRequest {
                user_id: t.user_id.clone(),
                password,
                device_id: device.sim.caller.device_id.clone(),
            };
            let signed = relay.sign_in(&req).await?;
            device.token = signed.token;
            Ok::<_, LoadError>((i, device))
        });
    }
    let mut devices: Vec<(usize, Device)> = Vec::with_capacity(fleet.technicians.len());
    while let Some(r) = set.join_next().await {
        devices.push(r.map_err(|e| LoadError::Run(format!("sign-in task: {e}")))??);
    }
    devices.sort_by_key(|(i, _)| *i);
    Ok(devices.into_iter().map(|(_, d)| d).collect())
}

/// One push stream per device, counting events; returns once every stream has delivered its
/// first event (the relay sends the feed head at once), failing after 120 s.
async fn open_streams(
    relays: &[Relay],
    devices: &[Device],
    pushes: &Arc<Pushes>,
) -> Result<JoinSet<()>, LoadError> {
    let mut set = JoinSet::new();
    for (i, d) in devices.iter().enumerate() {
        let (relay, token, pushes) = (push_via(relays, i), d.token.clone(), pushes.clone());
        set.spawn(async move {
            let mut first = true;
            let _ = relay
                .events(&token, |_| {
                    if std::mem::take(&mut first) {
                        pushes.streams.fetch_add(1, Ordering::Relaxed);
                    }
                    pushes.events.fetch_add(1, Ordering::Relaxed);
                })
                .await;
        });
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while pushes.streams.load(Ordering::Relaxed) < devices.len() as u64 {
        if Instant::now() > deadline {
            return Err(LoadError::Run(format!(
                "only {} of {} push streams opened within 120 s",
                pushes.streams.load(Ordering::Relaxed),
                devices.len()
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(set)
}

/// Every device's first sync (orders down, new visits up), `plan.setup_concurrency` at once.
async fn first_syncs(
    relays: &[Relay],
    devices: Vec<Device>,
    shared: &Arc<Shared>,
    plan: &Plan,
) -> Result<(Vec<Device>, Tally), LoadError> {
    let turns = Arc::new(Semaphore::new(plan.setup_concurrency.max(1)));
    let mut set = JoinSet::new();
    for (i, mut d) in devices.into_iter().enumerate() {
        let (relay, turns, shared) = (sync_via(relays, i), turns.clone(), shared.clone());
        let timeout = plan.request_timeout;
        set.spawn(async move {
            let _turn = turns
                .acquire_owned()
                .await
                .expect("the semaphore stays open");
            let tally = d.first_sync(&relay, &shared, timeout).await;
            (i, d, tally)
        });
    }
    let mut out = Vec::new();
    let mut total = Tally::default();
    while let Some(r) = set.join_next().await {
        let (i, d, tally) = r.map_err(|e| LoadError::Run(format!("first sync task: {e}")))?;
        let tally = tally.map_err(|e| LoadError::Run(format!("first sync of {i}: {e}")))?;
        if d.jobs() != plan.orders_per_device as usize {
            return Err(LoadError::Run(format!(
                "device {i} received {} of its {} orders",
                d.jobs(),
                plan.orders_per_device
            )));
        }
        total.add(tally);
        out.push((i, d));
    }
    out.sort_by_key(|(i, _)| *i);
    Ok((out.into_iter().map(|(_, d)| d).collect(), total))
}

/// The warm-up and measured window, from now.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: Instant,
    pub measure_start: Instant,
    pub measure_end: Instant,
}

impl Window {
    fn after(warm_up: Duration, measure: Duration) -> Window {
        let start = Instant::now();
        Window {
            start,
            measure_start: start + warm_up,
            measure_end: start + warm_up + measure,
        }
    }
}

/// Run every device's bursts until the window ends; returns the devices, the measured tally and
/// the tally of every burst (warm-up and the final catch-up included).
async fn drive_all(
    relays: &[Relay],
    devices: Vec<Device>,
    shared: &Arc<Shared>,
    plan: &Plan,
    window: &Window,
) -> (Vec<Device>, Tally, Tally) {
    let n = devices.len().max(1) as u32;
    let mut set = JoinSet::new();
    for (i, d) in devices.into_iter().enumerate() {
        let offset = plan.burst_every * i as u32 / n;
        let (relay, shared, window) = (sync_via(relays, i), shared.clone(), *window);
        let (every, timeout) = (plan.burst_every, plan.request_timeout);
        set.spawn(drive(d, relay, shared, window, offset, every, timeout));
    }
    let (mut out, mut measured, mut all) = (Vec::new(), Tally::default(), Tally::default());
    while let Some(r) = set.join_next().await {
        let (d, m, a) = r.expect("device tasks do not panic");
        out.push(d);
        measured.add(m);
        all.add(a);
    }
    (out, measured, all)
}

/// One device's bursts: one every `every` from `window.start + offset`, while the window lasts
/// (a burst that could not start on time starts at once and counts as late); then one more
/// exchange if something is still unsent after an error.
async fn drive(
    mut d: Device,
    relay: Relay,
    shared: Arc<Shared>,
    window: Window,
    offset: Duration,
    every: Duration,
    timeout: Duration,
) -> (Device, Tally, Tally) {
    let (mut measured, mut all) = (Tally::default(), Tally::default());
    let mut slot = window.start + offset;
    let mut k = 0u64;
    while slot < window.measure_end {
        tokio::time::sleep_until(slot.into()).await;
        let started = Instant::now();
        let mut t = Tally {
            bursts: 1,
            late_bursts: (started > slot + every / 10) as u64,
            ..Tally::default()
        };
        k += 1;
        match d.edit_all(&shared, &format!("burst {k}"), onsite_relay::api::now_ms()) {
            Ok(()) => {
                let _ = d.exchange(&relay, timeout, &mut t).await;
            }
            Err(e) => *t.errors.entry(format!("edit: {e}")).or_default() += 1,
        }
        if started >= window.measure_start && started < window.measure_end {
            measured.add(t.clone());
        }
        all.add(t);
        slot = (slot + every).max(Instant::now());
    }
    if d.sim.unsynced() > 0 {
        let _ = d.exchange(&relay, timeout, &mut all).await;
    }
    (d, measured, all)
}
