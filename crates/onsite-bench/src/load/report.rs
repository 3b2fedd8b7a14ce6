//! What a load run measured: the JSON written per size, the table printed, and the relay's
//! memory sampled every 250 ms from `/proc` (each instance's, when there are several).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::Plan;
use super::device::Tally;
use crate::proc_stats::{ProcStats, mib};

/// How often the relay's memory is sampled.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(250);

/// Latency percentiles, milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    fn of(latencies_us: &[u32]) -> Percentiles {
        let mut v = latencies_us.to_vec();
        v.sort_unstable();
        let at = |q: f64| -> f64 {
            if v.is_empty() {
                return 0.0;
            }
            let i = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1;
            v[i] as f64 / 1000.0
        };
        Percentiles {
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: at(1.0),
        }
    }
}

/// A relay process (or all instances together) during the measured window.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RelayFigures {
    /// Highest RSS sampled during the measured window, MiB.
    pub peak_rss_mib: f64,
    /// Peak RSS since the relay started (`VmHWM`: sign-ins and first syncs included), MiB.
    pub hwm_mib: f64,
    /// CPU seconds used from the measured window's start until the last burst ended, and per
    /// second of that time (2.0 = both cores).
    pub cpu_secs: f64,
    pub cpu_per_sec: f64,
}

/// One run's figures (written as JSON, drawn by `bench/chart.mjs`).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// Relay instances on the one database.
    pub instances: usize,
    pub devices: u32,
    pub orders_per_device: u32,
    pub burst_every_ms: u64,
    pub measure_secs: f64,
    pub sign_in_secs: f64,
    pub first_sync_secs: f64,
    pub requests: u64,
    pub requests_per_sec: f64,
    pub stored_changes: u64,
    pub changes_per_sec: f64,
    pub offered_changes_per_sec: f64,
    pub bursts: u64,
    pub late_bursts: u64,
    pub latency_ms: Percentiles,
    /// Measured window only.
    pub errors: BTreeMap<String, u64>,
    /// The whole run (sign-ins excepted): first syncs, warm-up, measured, catch-up.
    pub errors_all: BTreeMap<String, u64>,
    pub push_streams: u64,
    pub push_events: u64,
    pub push_events_measured: u64,
    /// All instances together (RSS: the sum of each instance's peak).
    pub relay: Option<RelayFigures>,
    /// Each instance.
    pub relay_instances: Vec<RelayFigures>,
    /// CPU of the PostgreSQL server (postmaster and its backends) over the same time as the
    /// relay's, and per second of it; `None` on SQLite or when its pid was not given.
    pub postgres_cpu_secs: Option<f64>,
    pub postgres_cpu_per_sec: Option<f64>,
    pub generator_cpu_secs: f64,
    /// Edits the devices made (each one Automerge change) and changes the relay said it stored,
    /// over the whole run; equal when nothing was lost.
    pub edits: u64,
    pub stored_changes_all: u64,
    /// Documents still holding unsent changes at the end.
    pub unsynced_docs: usize,
    /// `/proc/loadavg` at the end of the run.
    pub load_average: String,
    /// `[seconds from the measured window's start, relay RSS MiB]` every 250 ms (the sum over
    /// the instances).
    pub rss_samples: Vec<[f64; 2]>,
}

/// What [`Report::new`] is built from.
pub struct Inputs<'a> {
    pub plan: &'a Plan,
    pub backend: String,
    pub instances: usize,
    pub sign_in_secs: f64,
    pub first_sync_secs: f64,
    pub measured: Tally,
    pub everything: Tally,
    pub edits: u64,
    pub unsynced: usize,
    pub push_streams: u64,
    pub push_events: u64,
    pub push_events_measured: u64,
    /// Each instance at the measured window's start and end (`None`: not a child process).
    pub relays: Vec<Option<(ProcStats, ProcStats)>>,
    pub postgres_cpu: Option<Duration>,
    /// From the measured window's start until the last device finished.
    pub measured_for: Duration,
    pub generator: Option<(ProcStats, ProcStats)>,
    /// Seconds from the measured window's start and each instance's RSS, MiB.
    pub samples: Vec<(f64, Vec<f64>)>,
}

impl Report {
    pub fn new(i: Inputs<'_>) -> Report {
        let secs = i.plan.measure.as_secs_f64();
        let instances: Vec<RelayFigures> = i
            .relays
            .iter()
            .enumerate()
            .filter_map(|(k, r)| r.map(|r| relay_figures(k, r, &i.samples, secs, i.measured_for)))
            .collect();
        let relay = (!instances.is_empty()).then(|| RelayFigures::sum(&instances));
        let postgres = i.postgres_cpu.map(|d| d.as_secs_f64());
        Report {
            backend: i.backend,
            instances: i.instances,
            devices: i.plan.devices,
            orders_per_device: i.plan.orders_per_device,
            burst_every_ms: i.plan.burst_every.as_millis() as u64,
            measure_secs: secs,
            sign_in_secs: i.sign_in_secs,
            first_sync_secs: i.first_sync_secs,
            requests: i.measured.requests,
            requests_per_sec: i.measured.requests as f64 / secs,
            stored_changes: i.measured.stored_changes,
            changes_per_sec: i.measured.stored_changes as f64 / secs,
            offered_changes_per_sec: i.plan.offered_changes_per_sec(),
            bursts: i.measured.bursts,
            late_bursts: i.measured.late_bursts,
            latency_ms: Percentiles::of(&i.measured.latencies_us),
            errors: i.measured.errors,
            errors_all: i.everything.errors,
            push_streams: i.push_streams,
            push_events: i.push_events,
            push_events_measured: i.push_events_measured,
            relay,
            relay_instances: instances,
            postgres_cpu_secs: postgres,
            postgres_cpu_per_sec: postgres.map(|c| c / i.measured_for.as_secs_f64()),
            generator_cpu_secs: i
                .generator
                .map(|(b, a)| (a.cpu - b.cpu).as_secs_f64())
                .unwrap_or_default(),
            edits: i.edits,
            stored_changes_all: i.everything.stored_changes,
            unsynced_docs: i.unsynced,
            load_average: load_average(),
            rss_samples: i
                .samples
                .iter()
                .map(|(t, m)| [*t, m.iter().sum()])
                .collect(),
        }
    }

    /// Errors in the measured window, all kinds.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// The figures as a table with the targets (the targets are set for 1,000 devices).
    pub fn table(&self) -> String {
        let mut s = format!(
            "devices {} · {} × {} · bursts of {} changes every {} ms · {:.0} s measured · load average {}\n",
            self.devices,
            self.backend,
            self.instances,
            self.orders_per_device,
            self.burst_every_ms,
            self.measure_secs,
            self.load_average
        );
        let mut rows = self.load_rows();
        rows.extend(self.process_rows());
        for (name, value, target) in rows {
            s.push_str(&format!("  {name:<28} {value:<40} {target}\n"));
        }
        s.push_str(&format!(
            "  late bursts {} of {} · generator CPU {:.1} s · edits {} = stored {} · unsynced docs {}\n",
            self.late_bursts,
            self.bursts,
            self.generator_cpu_secs,
            self.edits,
            self.stored_changes_all,
            self.unsynced_docs
        ));
        s
    }

    /// Throughput, latency and errors: `(figure, value, target)`.
    fn load_rows(&self) -> Vec<(String, String, &'static str)> {
        let l = &self.latency_ms;
        let row = |n: &str, v: String, t: &'static str| (n.to_owned(), v, t);
        vec![
            row(
                "sign-in (Argon2, before)",
                format!("{:.1} s", self.sign_in_secs),
                "",
            ),
            row(
                "first syncs (before)",
                format!("{:.1} s", self.first_sync_secs),
                "",
            ),
            row("requests/s", format!("{:.0}", self.requests_per_sec), ""),
            row(
                "changes/s stored",
                format!(
                    "{:.0} (offered {:.0})",
                    self.changes_per_sec, self.offered_changes_per_sec
                ),
                "≥ 2,000",
            ),
            row("latency p50", format!("{:.1} ms", l.p50), ""),
            row("latency p95", format!("{:.1} ms", l.p95), ""),
            row("latency p99", format!("{:.1} ms", l.p99), "< 250 ms"),
            row("latency max", format!("{:.1} ms", l.max), ""),
            row(
                "errors",
                format!("{} {:?}", self.error_count(), self.errors),
                "0",
            ),
            row(
                "push events (streams open)",
                format!("{} ({})", self.push_events_measured, self.push_streams),
                "",
            ),
        ]
    }

    /// Memory and CPU of the relay (all instances, then each when there are several) and of
    /// PostgreSQL.
    fn process_rows(&self) -> Vec<(String, String, &'static str)> {
        let r = self.relay.clone().unwrap_or_default();
        let mut rows = vec![
            (
                "relay RSS peak (VmHWM)".to_owned(),
                format!("{:.0} MiB ({:.0} MiB)", r.peak_rss_mib, r.hwm_mib),
                "< 300 MB",
            ),
            (
                "relay CPU".to_owned(),
                format!("{:.1} s ({:.2} cores)", r.cpu_secs, r.cpu_per_sec),
                "",
            ),
        ];
        if self.relay_instances.len() > 1 {
            for (k, r) in self.relay_instances.iter().enumerate() {
                rows.push((
                    format!("  instance {}: RSS, CPU", k + 1),
                    format!(
                        "{:.0} MiB ({:.0}), {:.1} s ({:.2} cores)",
                        r.peak_rss_mib, r.hwm_mib, r.cpu_secs, r.cpu_per_sec
                    ),
                    "",
                ));
            }
        }
        if let (Some(c), Some(per)) = (self.postgres_cpu_secs, self.postgres_cpu_per_sec) {
            rows.push((
                "PostgreSQL CPU".to_owned(),
                format!("{c:.1} s ({per:.2} cores)"),
                "",
            ));
        }
        rows
    }
}

/// Instance `k`'s figures: CPU between `before` and `after`, peak RSS sampled in the window.
fn relay_figures(
    k: usize,
    (before, after): (ProcStats, ProcStats),
    samples: &[(f64, Vec<f64>)],
    secs: f64,
    measured_for: Duration,
) -> RelayFigures {
    let cpu = (after.cpu - before.cpu).as_secs_f64();
    let in_window = samples
        .iter()
        .filter(|(t, _)| *t >= 0.0 && *t <= secs)
        .filter_map(|(_, m)| m.get(k).copied());
    RelayFigures {
        peak_rss_mib: in_window.fold(mib(after.rss), f64::max),
        hwm_mib: mib(after.peak_rss),
        cpu_secs: cpu,
        cpu_per_sec: cpu / measured_for.as_secs_f64(),
    }
}

impl RelayFigures {
    /// All instances together.
    fn sum(all: &[RelayFigures]) -> RelayFigures {
        RelayFigures {
            peak_rss_mib: all.iter().map(|r| r.peak_rss_mib).sum(),
            hwm_mib: all.iter().map(|r| r.hwm_mib).sum(),
            cpu_secs: all.iter().map(|r| r.cpu_secs).sum(),
            cpu_per_sec: all.iter().map(|r| r.cpu_per_sec).sum(),
        }
    }
}

/// `/proc/loadavg`'s three figures.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// When a sample was taken and each instance's RSS then, bytes.
type Sample = (Instant, Vec<u64>);

/// Samples the relay instances' RSS every [`SAMPLE_EVERY`] in a background task.
pub struct Sampler {
    samples: Arc<Mutex<Vec<Sample>>>,
    origin: Arc<Mutex<Option<Instant>>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Sampler {
    /// Start sampling `pids` (nothing when empty), until one of them has exited.
    pub fn start(pids: Vec<u32>) -> Sampler {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let task = (!pids.is_empty()).then(|| {
            let samples = samples.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(SAMPLE_EVERY);
                loop {
                    tick.tick().await;
                    let Some(rss) = pids
                        .iter()
                        .map(|&p| ProcStats::read(p).map(|s| s.rss))
                        .collect::<Option<Vec<u64>>>()
                    else {
                        return;
                    };
                    samples
                        .lock()
                        .expect("sampler lock")
                        .push((Instant::now(), rss));
                }
            })
        });
        Sampler {
            samples,
            origin: Arc::new(Mutex::new(None)),
            task,
        }
    }

    /// Time zero of the samples (the measured window's start).
    pub fn mark(&self, origin: Instant) {
        *self.origin.lock().expect("sampler lock") = Some(origin);
    }

    /// Stop and return the seconds from the mark and each instance's RSS in MiB.
    pub async fn stop(mut self) -> Vec<(f64, Vec<f64>)> {
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
        let origin = self
            .origin
            .lock()
            .expect("sampler lock")
            .unwrap_or_else(Instant::now);
        let samples = self.samples.lock().expect("sampler lock");
        samples
            .iter()
            .map(|(t, rss)| {
                let secs = if *t >= origin {
                    (*t - origin).as_secs_f64()
                } else {
                    -(origin - *t).as_secs_f64()
                };
                (secs, rss.iter().map(|&r| mib(r)).collect())
            })
            .collect()
    }
}
