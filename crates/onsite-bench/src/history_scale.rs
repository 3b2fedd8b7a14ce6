//! Partial replicas at scale (issue 14): a fresh dispatcher device's first sync against a relay
//! holding a long generated history ([`crate::history_gen`]), with a history window or the whole
//! history; the device's store on disk; a history search and one old job fetched on demand; and
//! the checks that what the device got is what the window rule says and reads as documents.
//!
//! Figures are printed by `onsite-history-scale`; nothing here asserts a speed.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use onsite_domain::household::Household;
use onsite_domain::order::Order;
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, Millis, doc, retention};
use onsite_relay::history::JobRow;
use onsite_store::Store;
use onsite_wire::{HistoryAnswer, HistoryQuery};
use rusqlite::Connection;

use crate::device_scale::{self, FirstSync, ScaleError, SyncedDevice};

/// A fresh dispatcher device's first sync at `relay_url` with `window_days` of history (`0`: the
/// whole history), its store in `device_dir`.
pub async fn dispatcher_first_sync(
    relay_url: &str,
    device_dir: &Path,
    window_days: u32,
) -> Result<(FirstSync, SyncedDevice), ScaleError> {
    dispatcher_first_sync_within(relay_url, device_dir, window_days, None).await
}

/// [`dispatcher_first_sync`] stopped once `limit` has passed
/// ([`device_scale::first_sync_within`]).
pub async fn dispatcher_first_sync_within(
    relay_url: &str,
    device_dir: &Path,
    window_days: u32,
    limit: Option<Duration>,
) -> Result<(FirstSync, SyncedDevice), ScaleError> {
    device_scale::first_sync_within(
        relay_url,
        device_dir,
        onsite_relay::seed::DISPATCHER,
        |store| Ok(onsite_client::set_history_window(store, window_days)?),
        limit,
    )
    .await
}

/// Bytes of the device's store on disk: the SQLite file and its write-ahead log.
pub fn store_bytes(store: &Store) -> u64 {
    let db = store.path();
    let wal = db.with_extension(match db.extension() {
        Some(e) => format!("{}-wal", e.to_string_lossy()),
        None => "wal".to_owned(),
    });
    [db.to_path_buf(), wal]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// `GET /api/v1/history?q=<q>` from the device: time and answer.
pub async fn search(
    device: &SyncedDevice,
    q: &str,
) -> Result<(Duration, HistoryAnswer), ScaleError> {
    let token = device.session.token.as_deref().unwrap_or_default();
    let query = HistoryQuery {
        q: Some(q.to_owned()),
        household: None,
    };
    let start = Instant::now();
    let answer = device.relay.history(token, &query).await?;
    Ok((start.elapsed(), answer))
}

/// Fetch the documents `docs` of one job the device does not hold (`sync_fetching`): time and
/// round trips.
pub async fn fetch(device: &SyncedDevice, docs: &[DocId]) -> Result<(Duration, u32), ScaleError> {
    let start = Instant::now();
    let report = onsite_client::sync_fetching(
        &device.store,
        &device.relay,
        &device.session,
        docs,
        |_, _| {},
    )
    .await?;
    Ok((start.elapsed(), report.round_trips))
}

/// What a device holds of the generated history, every document read as what it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Held {
    /// Generated orders (`hist-…`) and their visits.
    pub orders: BTreeSet<String>,
    pub visits: BTreeSet<String>,
    pub households: usize,
}

/// Read every order, visit and household on the device; the generated ones are counted.
pub fn held(store: &Store) -> Result<Held, ScaleError> {
    let mut held = Held::default();
    for id in store.list_doc_ids()? {
        let d = store.load_doc(&id)?;
        match &id {
            DocId::Order(o) => {
                let order: Order = doc::read(&d)?;
                check_id(&id, &order.order_id == o)?;
                if o.starts_with("hist-") {
                    held.orders.insert(o.clone());
                }
            }
            DocId::Visit { order_id, .. } => {
                let visit: Visit = doc::read(&d)?;
                check_id(&id, &visit.order_id == order_id)?;
                if order_id.starts_with("hist-") {
                    held.visits.insert(order_id.clone());
                }
            }
            DocId::Household(h) => {
                let household: Household = doc::read(&d)?;
                check_id(&id, &household.household_id == h)?;
                held.households += usize::from(h.starts_with("hb-"));
            }
            _ => {}
        }
    }
    Ok(held)
}

fn check_id(id: &DocId, same: bool) -> Result<(), ScaleError> {
    match same {
        true => Ok(()),
        false => Err(ScaleError::Check(format!(
            "'{id}' holds a document of another id"
        ))),
    }
}

/// Every generated job of the relay database `db`, recomputed from its stored documents by
/// [`JobRow::of`], after checking the `jobs` row stored for it is that row.
pub fn relay_jobs(db: &Path) -> Result<Vec<JobRow>, ScaleError> {
    let conn = Connection::open(db).map_err(sql)?;
    let mut st = conn
        .prepare(
            "SELECT order_id, order_no, customer_name, phone, household_id, settled, last_activity_ms
             FROM jobs WHERE order_id LIKE 'hist-%' ORDER BY order_id",
        )
        .map_err(sql)?;
    let stored = st
        .query_map([], |r| {
            Ok(JobRow {
                order_id: r.get(0)?,
                order_no: r.get(1)?,
                customer_name: r.get(2)?,
                phone: r.get(3)?,
                household_id: r.get(4)?,
                settled: r.get(5)?,
                last_activity_ms: r.get(6)?,
            })
        })
        .map_err(sql)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sql)?;
    for row in &stored {
        let (order, visits) = relay_job(&conn, &row.order_id)?;
        let computed = JobRow::of(&order, &visits);
        if &computed != row {
            return Err(ScaleError::Check(format!(
                "the jobs row stored for {} is {row:?}, its documents give {computed:?}",
                row.order_id
            )));
        }
    }
    Ok(stored)
}

fn relay_job(conn: &Connection, order_id: &str) -> Result<(Order, Vec<Visit>), ScaleError> {
    let bytes: Vec<u8> = conn
        .query_row(
            "SELECT bytes FROM docs WHERE doc_id = ?1",
            [format!("order:{order_id}")],
            |r| r.get(0),
        )
        .map_err(sql)?;
    let order = doc::read(&doc::load(&bytes)?)?;
    let mut st = conn
        .prepare_cached("SELECT bytes FROM docs WHERE doc_id >= ?1 AND doc_id < ?2")
        .map_err(sql)?;
    let visits = st
        .query_map(
            [format!("visit:{order_id}:"), format!("visit:{order_id};")],
            |r| r.get::<_, Vec<u8>>(0),
        )
        .map_err(sql)?
        .map(|b| Ok(doc::read(&doc::load(&b.map_err(sql)?)?)?))
        .collect::<Result<Vec<Visit>, ScaleError>>()?;
    Ok((order, visits))
}

/// The generated jobs a device with `window_days` holds at `now` by the window rule
/// ([`retention::held`]).
pub fn expected(jobs: &[JobRow], window_days: u32, now: Millis) -> BTreeSet<String> {
    let cutoff = retention::cutoff(now, window_days);
    jobs.iter()
        .filter(|j| {
            retention::held(
                retention::Job {
                    settled: j.settled,
                    last_activity_ms: j.last_activity_ms,
                },
                cutoff,
            )
        })
        .map(|j| j.order_id.clone())
        .collect()
}

fn sql(e: rusqlite::Error) -> ScaleError {
    ScaleError::Check(format!("relay database: {e}"))
}
