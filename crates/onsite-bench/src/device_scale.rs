//! The device at scale (issue 13 §3): a relay holding `orders` orders assigned to one
//! technician, a fresh device's first sync of them over real HTTP (time, round trips, bytes at
//! the socket against the documents' own size, the "n of N" progress it publishes), then the
//! app opened on that device folder as the desktop shell opens it and the Today list asked for
//! (cold and warm, in fresh processes), with the process's memory.
//!
//! Figures are printed by `onsite-device-scale`; nothing here asserts a speed.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use automerge::AutoCommit;
use onsite_domain::order::Order;
use onsite_domain::sla::SlaPolicy;
use onsite_domain::{DocId, HOUR, Millis, doc, seed};
use onsite_relay::{Config, RelayStorage, SqliteStorage};
use onsite_store::Store;
use onsite_sync::access::Principal;
use onsite_sync::device::{self, PeerState};
use onsite_sync::relay::{Caller, HandleError};
use onsite_wire::Role;

use crate::proc_stats::ProcStats;
use crate::wire_count::CountingProxy;

/// The technician every generated order is assigned to (a demo account of the relay's seed).
pub const TECHNICIAN: &str = "tech.a";
/// Every demo account's password in the prepared database.
pub const PASSWORD: &str = "device-scale";
/// Orders per scheduled day: the Today screen (yesterday to tomorrow) lists three days' worth.
pub const ORDERS_PER_DAY: u32 = 10;
/// Orders uploaded per request while preparing the relay database.
const UPLOAD_BATCH: usize = 500;
const DAY: Millis = 24 * HOUR;

/// A failed benchmark step.
#[derive(Debug, thiserror::Error)]
pub enum ScaleError {
    #[error("relay storage: {0}")]
    Relay(#[from] onsite_relay::storage::StorageError),
    #[error("seeding the relay: {0}")]
    Seed(#[from] onsite_relay::seed::SeedError),
    #[error("the relay refused the prepared orders: {0}")]
    Refused(String),
    #[error("domain: {0}")]
    Domain(#[from] onsite_domain::DomainError),
    #[error("device store: {0}")]
    Store(#[from] onsite_store::StoreError),
    #[error("device client: {0}")]
    Client(#[from] onsite_client::ClientError),
    #[error("app: {0}")]
    App(#[from] onsite_app::AppError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Check(String),
}

/// Local midnight of today, as the app computes "today".
pub fn local_day_start(now: Millis) -> Millis {
    let offset = chrono::Local::now().offset().local_minus_utc() as Millis * 1000;
    (now + offset).div_euclid(DAY) * DAY - offset
}

/// Create the relay database `db`: the demo company (accounts with [`PASSWORD`], reference
/// documents, profiles) and `orders` more orders assigned to [`TECHNICIAN`], [`ORDERS_PER_DAY`]
/// a day from yesterday on, uploaded through the relay's own sync path as the dispatcher.
/// Returns the relay's change count afterwards.
pub fn prepare_relay(db: &Path, orders: u32, now: Millis) -> Result<u64, ScaleError> {
    let storage = SqliteStorage::open(db)?;
    let config = Config::for_database(db);
    let day = local_day_start(now);
    onsite_relay::seed::seed_demo(&storage, &config, PASSWORD, 0, day, now)?;
    let profile = seed::technician(
        TECHNICIAN,
        "张师傅 Zhang",
        "13900000001",
        "CERT-HA-0001",
        now,
    );
    let caller = Caller {
        principal: Principal {
            user_id: onsite_relay::seed::DISPATCHER.to_owned(),
            role: Role::Dispatcher,
            centre: onsite_relay::storage::DEFAULT_CENTRE.to_owned(),
        },
        device_id: "device-scale".to_owned(),
    };
    let mut batch: Vec<(DocId, AutoCommit)> = Vec::new();
    for n in 0..orders {
        let on = day + (i64::from(n / ORDERS_PER_DAY) - 1) * DAY;
        let mut new = seed::order(n, on);
        new.order_id = format!("scale-{n:06}");
        new.order_no = format!("WO-S{n:06}");
        let mut o = Order::create(new, &SlaPolicy::default(), now)?;
        o.assign(
            &format!("scale-{n}"),
            &profile,
            "",
            &caller.principal.user_id,
            now,
        )?;
        batch.push((DocId::Order(o.order_id.clone()), doc::create(&o)?));
        if batch.len() == UPLOAD_BATCH || n + 1 == orders {
            upload(&storage, &config, &caller, &mut batch, now)?;
        }
    }
    Ok(storage.change_count()?)
}

fn upload(
    storage: &SqliteStorage,
    config: &Config,
    caller: &Caller,
    batch: &mut Vec<(DocId, AutoCommit)>,
    now: Millis,
) -> Result<(), ScaleError> {
    let messages = batch
        .iter_mut()
        .filter_map(|(id, d)| device::outgoing(d, &PeerState::new()).map(|m| (id.clone(), m)))
        .collect();
    let req = device::build_request(storage.head_seq()?, messages);
    let handled = storage
        .sync(caller, &req, &config.limits(), now)
        .map_err(|e| match e {
            HandleError::Refused(e) => ScaleError::Refused(e.to_string()),
            HandleError::Storage(e) => ScaleError::Relay(e),
        })?;
    if let Some(r) = handled.response.rejected.first() {
        return Err(ScaleError::Refused(format!("{}: {}", r.code, r.message)));
    }
    batch.clear();
    Ok(())
}

/// What a fresh device's first sync did.
#[derive(Debug, Clone, Default)]
pub struct FirstSync {
    /// The relay had nothing more (false: stopped at the time limit of [`first_sync_within`]).
    pub complete: bool,
    pub time: Duration,
    pub round_trips: u32,
    /// Documents stored on the device afterwards.
    pub documents: usize,
    /// Bytes at the socket, both directions, sign-in included.
    pub wire_up: u64,
    pub wire_down: u64,
    /// The stored documents' saved (Automerge-compressed) size, and that gzip-compressed.
    pub saved_bytes: u64,
    pub saved_gzip_bytes: u64,
    /// `(n, N)` after every round, as the sync task publishes it.
    pub progress: Vec<(u64, u64)>,
    /// Wall time of each round (request, relay, applying the answer on the device).
    pub rounds: Vec<Duration>,
    /// CPU time this process (the device) used for the sync.
    pub device_cpu: Duration,
    /// This process's resident memory after the sync (device and bench in one process).
    pub rss_after: u64,
}

/// Sign a fresh device in at `relay_url` as [`TECHNICIAN`] through a byte-counting proxy, with
/// its store in `device_dir`, and sync until quiescent.
pub async fn first_sync(relay_url: &str, device_dir: &Path) -> Result<FirstSync, ScaleError> {
    Ok(first_sync_as(relay_url, device_dir, TECHNICIAN, |_| Ok(()))
        .await?
        .0)
}

/// A device after its first sync, still connected through the counting proxy.
pub struct SyncedDevice {
    pub store: onsite_client::SharedStore,
    pub session: onsite_client::Session,
    pub relay: onsite_client::Relay,
    pub proxy: CountingProxy,
}

/// [`first_sync`] as `user` (password [`PASSWORD`]), with `configure` called on the fresh
/// store before anything is sent (e.g. to set the history window).
pub async fn first_sync_as(
    relay_url: &str,
    device_dir: &Path,
    user: &str,
    configure: impl FnOnce(&onsite_client::SharedStore) -> Result<(), ScaleError>,
) -> Result<(FirstSync, SyncedDevice), ScaleError> {
    first_sync_within(relay_url, device_dir, user, configure, None).await
}

/// [`first_sync_as`], stopped once `limit` has passed (checked between `sync_once` calls, each
/// at most 64 rounds): the figures are then those of the partial sync ([`FirstSync::complete`]
/// false; the saved sizes are not computed). A line of progress goes to stderr after every
/// `sync_once` call.
pub async fn first_sync_within(
    relay_url: &str,
    device_dir: &Path,
    user: &str,
    configure: impl FnOnce(&onsite_client::SharedStore) -> Result<(), ScaleError>,
    limit: Option<Duration>,
) -> Result<(FirstSync, SyncedDevice), ScaleError> {
    let target = relay_url
        .trim_start_matches("http://")
        .parse()
        .map_err(|e| ScaleError::Check(format!("relay address {relay_url}: {e}")))?;
    let proxy = CountingProxy::start(target).await?;
    let store = Arc::new(Mutex::new(Store::open_in(device_dir)?));
    configure(&store)?;
    let clock = onsite_client::RelayClock::default();
    let cpu_before = ProcStats::read(std::process::id()).unwrap_or_default().cpu;
    let start = Instant::now();
    let session = onsite_client::sign_in(&store, &proxy.url(), user, PASSWORD, &clock).await?;
    let relay = onsite_client::Relay::for_device(&store, &proxy.url())?;
    let mut progress = Vec::new();
    let mut rounds = Vec::new();
    let mut round_start = Instant::now();
    // One `sync_once` stops after its maximum of rounds; the sync task calls it again while the
    // relay has more, and so does this.
    let mut round_trips = 0;
    let mut complete = true;
    loop {
        let mut more = false;
        let report = onsite_client::sync_once(&store, &relay, &session, |r, m| {
            progress.extend(r.progress());
            rounds.push(round_start.elapsed());
            round_start = Instant::now();
            more = m;
        })
        .await?;
        round_trips += report.round_trips;
        let (n, total) = progress.last().copied().unwrap_or_default();
        eprintln!(
            "  {:.0} s: {round_trips} round trips, {n} of {total} documents, {} B down",
            start.elapsed().as_secs_f64(),
            proxy.bytes().down
        );
        if !more {
            break;
        }
        if limit.is_some_and(|l| start.elapsed() >= l) {
            complete = false;
            break;
        }
    }
    let time = start.elapsed();
    let device_cpu = ProcStats::read(std::process::id())
        .unwrap_or_default()
        .cpu
        .saturating_sub(cpu_before);
    let wire = proxy.bytes();
    let (documents, saved_bytes, saved_gzip_bytes) = match complete {
        true => saved_sizes(&store.lock().expect("store"))?,
        false => (store.lock().expect("store").list_doc_ids()?.len(), 0, 0),
    };
    let sync = FirstSync {
        complete,
        time,
        round_trips,
        documents,
        wire_up: wire.up,
        wire_down: wire.down,
        saved_bytes,
        saved_gzip_bytes,
        progress,
        rounds,
        device_cpu,
        rss_after: ProcStats::read(std::process::id()).unwrap_or_default().rss,
    };
    let device = SyncedDevice {
        store,
        session,
        relay,
        proxy,
    };
    Ok((sync, device))
}

/// Number of documents in `store`, their saved size and the gzip of all of them together.
fn saved_sizes(store: &Store) -> Result<(usize, u64, u64), ScaleError> {
    let ids = store.list_doc_ids()?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut raw = 0u64;
    for id in &ids {
        let bytes = store.load_doc(id)?.save();
        raw += bytes.len() as u64;
        gz.write_all(&bytes)?;
    }
    Ok((ids.len(), raw, gz.finish()?.len() as u64))
}

/// The app opened on a device folder and its Today list asked for, in this process.
#[derive(Debug, Clone, Copy, Default)]
pub struct TodayFigures {
    /// From just before `App::open` to the Today list returned.
    pub open_to_today: Duration,
    /// The `today` command alone.
    pub today_call: Duration,
    /// Orders on the Today list.
    pub orders: usize,
    /// This process's resident memory afterwards, and its peak.
    pub rss: u64,
    pub peak_rss: u64,
}

/// Open `onsite_app::App` on `device_dir` as the desktop shell does (system clock, following the
/// relay's clock) and call the command the Today screen calls. Run it in a fresh process (the
/// bench binary's `today` subcommand) to see a start, not a warm process.
pub fn open_and_today(device_dir: &Path) -> Result<TodayFigures, ScaleError> {
    let start = Instant::now();
    let app = onsite_app::App::open(device_dir, onsite_app::system_clock())?.follow_relay_clock();
    let call = Instant::now();
    let today = app.today()?;
    let today_call = call.elapsed();
    let open_to_today = start.elapsed();
    let stats = ProcStats::read(std::process::id()).unwrap_or_default();
    Ok(TodayFigures {
        open_to_today,
        today_call,
        orders: today.orders.len(),
        rss: stats.rss,
        peak_rss: stats.peak_rss,
    })
}

/// Check what a first sync must show: every prepared order arrived, the progress counted up to
/// a fixed total and ended at it.
pub fn check_first_sync(sync: &FirstSync, orders: u32) -> Result<(), ScaleError> {
    if sync.documents < orders as usize {
        return Err(ScaleError::Check(format!(
            "the device holds {} documents, fewer than the {orders} orders assigned",
            sync.documents
        )));
    }
    check_progress(&sync.progress)
}

/// `n` never goes down, `N` never changes, and the last report is `n == N`.
pub fn check_progress(progress: &[(u64, u64)]) -> Result<(), ScaleError> {
    let Some(&(last_n, last_total)) = progress.last() else {
        return Err(ScaleError::Check("no progress was reported".into()));
    };
    if progress.windows(2).any(|w| w[1].0 < w[0].0) {
        return Err(ScaleError::Check(format!("n went down: {progress:?}")));
    }
    if progress.iter().any(|&(_, total)| total != last_total) {
        return Err(ScaleError::Check(format!("N changed: {progress:?}")));
    }
    if last_n != last_total {
        return Err(ScaleError::Check(format!(
            "the sync ended at {last_n} of {last_total}"
        )));
    }
    Ok(())
}
