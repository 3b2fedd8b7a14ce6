//! A relay database for one centre with a long generated history (issue 14, partial replicas):
//! `jobs` orders spread over `years` before now, each with a signed visit unless it is still open,
//! customers grouped into `households` registry documents.
//!
//! Going through the relay's sync path costs about a millisecond a document, far too slow for a
//! million jobs, so the history is written directly into the relay's tables: the demo company is
//! seeded through the relay as usual, its signed history jobs (built by the domain's rules,
//! `onsite_domain::seed_history`) are the templates, and every generated job is a copy of one
//! with what must differ changed (ids, order number, customer, household, every time the window
//! reads shifted) and stored as new Automerge documents with the rows a commit writes — `docs`,
//! `changes`, `feed`, `access_events` and `jobs` ([`JobRow::of`]). The back office's tables
//! (order facts, records export, outbox) are not filled for the generated history.

use std::path::Path;

use automerge::AutoCommit;
use onsite_domain::household::Household;
use onsite_domain::order::Order;
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, HOUR, Millis, doc, seed};
use onsite_relay::history::JobRow;
use onsite_relay::storage::DEFAULT_CENTRE;
use onsite_relay::{Config, SqliteStorage};
use onsite_sync::access::{OrderFacts, Readers, order_access_changes, technician_readers};
use onsite_sync::relay::{EVERY_TECHNICIAN, centre_key};
use rusqlite::{Connection, Transaction, params};

use crate::device_scale::{PASSWORD, ScaleError, local_day_start};

const DAY: Millis = 24 * HOUR;
/// Jobs written per SQLite transaction.
const BATCH: u32 = 5_000;
/// Jobs created within this many days of now are still open one in [`OPEN_RECENT_EVERY`].
pub const OPEN_RECENT_DAYS: i64 = 14;
pub const OPEN_RECENT_EVERY: u32 = 2;
/// Of the older jobs, one in this many is still open (on hold, waiting for a part).
pub const OPEN_OLD_EVERY: u32 = 2_000;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct HistorySpec {
    pub jobs: u32,
    pub households: u32,
    pub years: u32,
}

impl HistorySpec {
    /// `jobs` over five years, ten jobs a household.
    pub fn of(jobs: u32) -> HistorySpec {
        HistorySpec {
            jobs,
            households: (jobs / 10).max(1),
            years: 5,
        }
    }

    /// When job `n` was created: evenly spread, oldest first, the newest an hour before `now`.
    pub fn created_at(&self, n: u32, now: Millis) -> Millis {
        let span = Millis::from(self.years) * 365 * DAY;
        now - HOUR - span + Millis::from(n) * span / Millis::from(self.jobs.max(1))
    }

    /// Whether job `n` is still open (no visit yet).
    pub fn open(&self, n: u32, now: Millis) -> bool {
        if self.created_at(n, now) >= now - OPEN_RECENT_DAYS * DAY {
            n.is_multiple_of(OPEN_RECENT_EVERY)
        } else {
            n.is_multiple_of(OPEN_OLD_EVERY)
        }
    }
}

/// Id of generated job `n`'s order.
pub fn order_id(n: u32) -> String {
    format!("hist-{n:07}")
}

/// Id of generated household `h`.
pub fn household_id(h: u32) -> String {
    format!("hb-{h:06}")
}

/// The phone number of generated household `h` (as normalised digits).
pub fn household_phone(h: u32) -> String {
    format!("139{h:08}")
}

/// Household of job `n`: scattered, so a household's jobs span the years.
pub fn household_of(spec: &HistorySpec, n: u32) -> u32 {
    ((u64::from(n) * 7_919) % u64::from(spec.households)) as u32
}

/// Create the relay database `db`: the demo company (accounts with [`PASSWORD`]) and the
/// generated history of `spec` relative to `now`. `progress` is called with the jobs written
/// so far. Returns the relay's change count afterwards.
pub fn prepare_history(
    db: &Path,
    spec: &HistorySpec,
    now: Millis,
    mut progress: impl FnMut(u32),
) -> Result<u64, ScaleError> {
    {
        let storage = SqliteStorage::open(db)?;
        let config = Config::for_database(db);
        onsite_relay::seed::seed_demo(&storage, &config, PASSWORD, 0, local_day_start(now), now)?;
    }
    let mut conn = Connection::open(db).map_err(sql)?;
    conn.pragma_update(None, "synchronous", "OFF")
        .map_err(sql)?;
    let templates = templates(&conn)?;
    let mut w = Writer::start(&conn)?;
    let tx = conn.transaction().map_err(sql)?;
    for h in 0..spec.households {
        w.put(&tx, household(h, now)?)?;
        crate::history_rows::reminder_check(&tx, &household_id(h))?;
    }
    tx.commit().map_err(sql)?;
    let mut n = 0;
    while n < spec.jobs {
        let tx = conn.transaction().map_err(sql)?;
        for n in n..(n + BATCH).min(spec.jobs) {
            let (order, visit) = job(spec, &templates[n as usize % templates.len()], n, now);
            w.put_job(&tx, &order, visit.as_ref())?;
        }
        tx.commit().map_err(sql)?;
        n = (n + BATCH).min(spec.jobs);
        progress(n);
    }
    Ok(w.seq as u64)
}

fn sql(e: rusqlite::Error) -> ScaleError {
    ScaleError::Check(format!("relay database: {e}"))
}

/// The demo's signed history jobs: order and visit.
fn templates(conn: &Connection) -> Result<Vec<(Order, Visit)>, ScaleError> {
    let mut st = conn
        .prepare(
            "SELECT v.bytes, o.bytes FROM docs v JOIN docs o
               ON o.doc_id = 'order:' || substr(v.doc_id, 7, instr(substr(v.doc_id, 7), ':') - 1)
             WHERE v.doc_id LIKE 'visit:%' AND v.record_hash IS NOT NULL ORDER BY v.doc_id",
        )
        .map_err(sql)?;
    let rows = st
        .query_map([], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
        })
        .map_err(sql)?;
    let mut out = Vec::new();
    for row in rows {
        let (v, o) = row.map_err(sql)?;
        out.push((doc::read(&doc::load(&o)?)?, doc::read(&doc::load(&v)?)?));
    }
    if out.is_empty() {
        return Err(ScaleError::Check(
            "the demo seed has no signed history job to copy".into(),
        ));
    }
    Ok(out)
}

/// Generated household `h`: a demo household renamed.
fn household(h: u32, now: Millis) -> Result<(DocId, AutoCommit, Row), ScaleError> {
    let mut hh: Household = seed::household(h as usize, local_day_start(now));
    hh.household_id = household_id(h);
    hh.name = format!("客户 {h:06}");
    hh.phones = vec![household_phone(h)];
    let id = DocId::Household(hh.household_id.clone());
    Ok((id, doc::create(&hh)?, Row::default()))
}

/// Generated job `n`: a copy of `template` for its household, created at
/// [`HistorySpec::created_at`], with its visit unless it is open.
pub fn job(
    spec: &HistorySpec,
    template: &(Order, Visit),
    n: u32,
    now: Millis,
) -> (Order, Option<Visit>) {
    let (mut order, mut visit) = template.clone();
    let delta = spec.created_at(n, now) - order.created_at_ms;
    crate::history_shift::order(&mut order, delta);
    crate::history_shift::visit(&mut visit, delta);
    let h = household_of(spec, n);
    // A text read from the template's document remembers its heads; a new document needs a new one.
    order.dispatcher_notes = autosurgeon::Text::from(order.dispatcher_notes.as_str().to_owned());
    order.order_id = order_id(n);
    order.order_no = format!("WO-H{n:07}");
    order.customer.household_id = household_id(h);
    order.customer.name = format!("客户 {h:06}");
    order.customer.phone = household_phone(h);
    visit.order_id = order.order_id.clone();
    if spec.open(n, now) {
        order.follow_ups.clear();
        order.complaints.clear();
        return (order, None);
    }
    (order, Some(visit))
}

/// What a document's rows need besides its bytes: its governing order's facts (for an order,
/// also its own `docs` columns) and, for a signed visit, the record hash.
#[derive(Default)]
struct Row {
    facts: Option<OrderFacts>,
    record_hash: Option<String>,
}

/// Writes documents as the relay's commit does, numbering changes from the stored head.
struct Writer {
    seq: i64,
}

impl Writer {
    fn start(conn: &Connection) -> Result<Writer, ScaleError> {
        let seq = conn
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM changes", [], |r| {
                r.get(0)
            })
            .map_err(sql)?;
        Ok(Writer { seq })
    }

    fn put_job(
        &mut self,
        tx: &Transaction<'_>,
        order: &Order,
        visit: Option<&Visit>,
    ) -> Result<(), ScaleError> {
        let facts = OrderFacts::of(order);
        let order_id = DocId::Order(order.order_id.clone());
        let row = Row {
            facts: Some(facts.clone()),
            record_hash: None,
        };
        self.put(tx, (order_id, doc::create(order)?, row))?;
        for (user, granted) in order_access_changes(None, &facts) {
            tx.prepare_cached(
                "INSERT INTO access_events(seq, user_id, doc_id, granted) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    self.seq,
                    user,
                    format!("order:{}", order.order_id),
                    granted as i64
                ])
            })
            .map_err(sql)?;
        }
        if let Some(v) = visit {
            let id = DocId::visit(&v.order_id, &v.technician_id);
            let row = Row {
                record_hash: v.signature.as_ref().map(|s| s.record_hash.clone()),
                facts: Some(facts.clone()),
            };
            self.put(tx, (id, doc::create(v)?, row))?;
        }
        let visits: Vec<Visit> = visit.into_iter().cloned().collect();
        crate::history_rows::job(tx, &JobRow::of(order, &visits))
    }

    fn put(
        &mut self,
        tx: &Transaction<'_>,
        (id, mut d, row): (DocId, AutoCommit, Row),
    ) -> Result<(), ScaleError> {
        let readers = technician_readers(&id, row.facts.as_ref());
        let f = matches!(id, DocId::Order(_))
            .then_some(row.facts.as_ref())
            .flatten();
        let id = id.to_string();
        let centre = centre_key(Some(DEFAULT_CENTRE));
        for c in d.get_changes(&[]) {
            self.seq += 1;
            crate::history_rows::change(tx, self.seq, &id, c.hash().0.as_slice(), c.raw_bytes())?;
            crate::history_rows::feed(tx, &centre, self.seq, &id)?;
            match &readers {
                Readers::AllTechnicians => {
                    crate::history_rows::feed(tx, EVERY_TECHNICIAN, self.seq, &id)?
                }
                Readers::Technicians(ts) => {
                    for t in ts {
                        crate::history_rows::feed(tx, t, self.seq, &id)?;
                    }
                }
            }
        }
        let bytes = d.save();
        let heads: Vec<u8> = d.get_heads().iter().flat_map(|h| h.0).collect();
        tx.prepare_cached(
            "INSERT INTO docs(doc_id, bytes, heads, size, order_no, assignee, assignees_ever, updated_seq, record_hash, centre)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .and_then(|mut s| {
            s.execute(params![
                id,
                bytes,
                heads,
                bytes.len() as i64,
                f.map(|f| f.order_no.as_str()),
                f.and_then(|f| f.assignee.as_deref()),
                f.map(|f| f.assignees_ever.join(",")),
                self.seq,
                row.record_hash,
                DEFAULT_CENTRE
            ])
        })
        .map_err(sql)?;
        Ok(())
    }
}
