//! One simulated technician's device during the load run: an in-memory device built on the real
//! protocol code (`onsite_testkit::sim::SimDevice` over `onsite_sync::device`), edits through the
//! domain's own edit path (`edit::apply`), and the real HTTP client (`onsite_client::Relay`,
//! gzip JSON as devices send it).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use onsite_client::{ClientError, Relay};
use onsite_domain::edit::{self, EditContext, VisitEdit};
use onsite_domain::order::Order;
use onsite_domain::reference::{FeeSchedule, PartsCatalogue, TechnicianProfile, TemplateLibrary};
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, Millis, doc};
use onsite_testkit::sim::SimDevice;
use onsite_wire::Role;

/// Round trips one exchange may take (a push and its feed pages) before it counts as an error.
const MAX_ROUNDS: usize = 50;

/// The company's reference documents, shared by every device (read-only).
pub struct Shared {
    pub library: TemplateLibrary,
    pub fees: FeeSchedule,
    pub parts: PartsCatalogue,
}

/// What one device counted.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Latency of every request, microseconds.
    pub latencies_us: Vec<u32>,
    pub requests: u64,
    pub stored_changes: u64,
    pub bursts: u64,
    /// Bursts that started later than their slot (the previous one was still running).
    pub late_bursts: u64,
    pub errors: BTreeMap<String, u64>,
}

impl Tally {
    pub fn add(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        self.requests += other.requests;
        self.stored_changes += other.stored_changes;
        self.bursts += other.bursts;
        self.late_bursts += other.late_bursts;
        for (k, v) in other.errors {
            *self.errors.entry(k).or_default() += v;
        }
    }

    fn error(&mut self, kind: String) {
        *self.errors.entry(kind).or_default() += 1;
    }
}

/// A technician's device.
pub struct Device {
    pub sim: SimDevice,
    pub token: String,
    profile: TechnicianProfile,
    /// The assigned orders (as last synced) and the visit of each.
    jobs: Vec<(Order, DocId)>,
    /// Each visit as this device last wrote it, with the document's heads after the write: the
    /// next edit starts from it while the document is unchanged, as the app edits the visit it
    /// holds open instead of reading it again. The generator shares the relay's two cores, so
    /// what it spends hydrating is CPU the relay does not get (docs/benchmarks.md, "Sixth round").
    open: BTreeMap<DocId, (Vec<automerge::ChangeHash>, Visit)>,
    /// Edits made so far (each one Automerge change).
    pub edits: u64,
}

impl Device {
    pub fn new(user_id: &str, token: String, profile: TechnicianProfile) -> Device {
        Device {
            sim: SimDevice::new(user_id, Role::Technician),
            token,
            profile,
            jobs: Vec::new(),
            open: BTreeMap::new(),
            edits: 0,
        }
    }

    /// First sync: download the assigned orders, keep only them (the reference documents are
    /// shared, to keep the generator small), start a visit of each and upload the visits.
    pub async fn first_sync(
        &mut self,
        relay: &Relay,
        shared: &Shared,
        timeout: Duration,
    ) -> Result<Tally, String> {
        let mut tally = Tally::default();
        self.exchange(relay, timeout, &mut tally).await?;
        self.sim.docs.retain(|id, _| matches!(id, DocId::Order(_)));
        let user = self.sim.caller.principal.user_id.clone();
        let orders: Vec<DocId> = self.sim.docs.keys().cloned().collect();
        for id in orders {
            let order: Order = self.sim.read(&id);
            let visit = Visit::start(&order, &user, &shared.library)
                .map_err(|e| format!("start a visit of {id}: {e}"))?;
            let vid = DocId::visit(&order.order_id, &user);
            self.sim.put(vid.clone(), &visit);
            self.jobs.push((order, vid));
            self.edits += 1;
        }
        self.exchange(relay, timeout, &mut tally).await?;
        Ok(tally)
    }

    /// Number of assigned orders this device works on.
    pub fn jobs(&self) -> usize {
        self.jobs.len()
    }

    /// Change every visit once (new notes, through `edit::apply`), each as one Automerge change.
    pub fn edit_all(&mut self, shared: &Shared, label: &str, now: Millis) -> Result<(), String> {
        let device_id = self.sim.caller.device_id.clone();
        for (order, vid) in &self.jobs {
            let (d, _) = self
                .sim
                .docs
                .get_mut(vid)
                .ok_or("the device holds its visit")?;
            let heads = d.get_heads();
            let mut v = match self.open.remove(vid) {
                Some((at, v)) if at == heads => v,
                _ => doc::read(d).map_err(|e| e.to_string())?,
            };
            let ctx = EditContext {
                order,
                library: &shared.library,
                fees: &shared.fees,
                parts: &shared.parts,
                profile: &self.profile,
                device_id: &device_id,
                now,
            };
            let notes = VisitEdit::SetNotes {
                diagnosis: format!("{label}: 压缩机启动电容失效 / start capacitor failed"),
                work_performed: format!("{label}: 更换电容 / replaced the capacitor"),
            };
            edit::apply(&mut v, notes, &ctx).map_err(|e| e.to_string())?;
            doc::write(d, &v).map_err(|e| e.to_string())?;
            d.commit();
            self.open.insert(vid.clone(), (d.get_heads(), v));
            self.edits += 1;
        }
        Ok(())
    }

    /// Send what the device holds and pull its feed until `more` is false; every request's
    /// latency, stored changes and error go to `tally`. `Err` when a request failed: its kind
    /// (as counted) and what the relay said.
    pub async fn exchange(
        &mut self,
        relay: &Relay,
        timeout: Duration,
        tally: &mut Tally,
    ) -> Result<(), String> {
        for _ in 0..MAX_ROUNDS {
            let req = self.sim.request();
            let start = Instant::now();
            let answer = tokio::time::timeout(timeout, relay.sync(&self.token, &req)).await;
            tally
                .latencies_us
                .push(start.elapsed().as_micros().min(u32::MAX as u128) as u32);
            tally.requests += 1;
            let resp = match answer {
                Ok(Ok((resp, _))) => resp,
                Ok(Err(e)) => {
                    let kind = error_kind(&e);
                    tally.error(kind.clone());
                    return Err(format!("{kind}: {e}"));
                }
                Err(_) => {
                    tally.error(format!("timeout after {} s", timeout.as_secs()));
                    return Err("timeout".into());
                }
            };
            tally.stored_changes += resp.stored_changes;
            for r in &resp.rejected {
                tally.error(format!("rejected {}", r.code));
            }
            self.sim.apply(&resp);
            if !resp.more {
                return Ok(());
            }
        }
        tally.error("feed did not end".into());
        Err("feed did not end".into())
    }
}

/// The kind of a failed request, for the error table: HTTP status and code, or how it failed.
pub fn error_kind(e: &ClientError) -> String {
    match e {
        ClientError::Relay { status, code, .. } => format!("HTTP {status} {code}"),
        ClientError::Auth { code, .. } => format!("auth {code}"),
        ClientError::Offline { detail, .. } => format!("connection: {}", short(detail)),
        ClientError::BadResponse(d) => format!("bad response: {}", short(d)),
        other => format!("{}", other.code()),
    }
}

fn short(s: &str) -> String {
    s.chars().take(60).collect()
}

/// A shared reference for the device tasks.
pub type SharedRef = Arc<Shared>;
