//! The background sync task and the status it publishes for the UI.

use std::sync::Arc;
use std::time::Duration;

use onsite_wire::PushEvent;
use rand::Rng;
use serde::Serialize;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::sync::cursor;
use crate::{ClientError, Relay, Session, SharedStore, lock, now_ms, sign_out_locally, sync_once};

/// Timing of the background task, and the clock offset it keeps up to date.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Wait this long after a local edit before syncing, so a burst of edits syncs once.
    pub debounce: Duration,
    /// First retry delay while offline; doubles up to `backoff_max`, with ±25 % jitter.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// Sync at least this often while online, even without a push.
    pub poll_every: Duration,
    /// Reloaded after every sync with the relay's clock as its answers showed it (the app adds
    /// it to the device clock, see `crate::clock`).
    pub clock: crate::RelayClock,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            debounce: Duration::from_millis(400),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            poll_every: Duration::from_secs(120),
            clock: crate::RelayClock::default(),
        }
    }
}

/// Where sync stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// No session on this device yet.
    SignedOut,
    /// The relay refused the token; sign in again (local work is kept).
    NeedsSignIn,
    Syncing,
    Online,
    Offline,
}

/// What the UI shows in its sync bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncStatus {
    pub state: SyncState,
    /// Local changes not yet confirmed by the relay.
    pub pending_changes: i64,
    pub last_synced_ms: Option<i64>,
    /// Code and message of the last failure; `None` after a successful sync.
    pub last_error: Option<(onsite_domain::Code, String)>,
    /// Documents of the feed received so far in a sync that takes more than one answer, and
    /// their total as the relay counts it (`n`, `N`); `None` otherwise.
    pub progress: Option<(u64, u64)>,
    pub round_trips: u64,
}

/// Control of the running task.
pub struct SyncHandle {
    nudge: Arc<Notify>,
    status: watch::Receiver<SyncStatus>,
    tasks: Vec<JoinHandle<()>>,
}

impl SyncHandle {
    /// Tell the task something changed locally (debounced) or that the user asked to sync.
    pub fn nudge(&self) {
        self.nudge.notify_one();
    }

    pub fn status(&self) -> SyncStatus {
        self.status.borrow().clone()
    }

    /// A receiver that sees every status change (for pushing to the UI).
    pub fn subscribe(&self) -> watch::Receiver<SyncStatus> {
        self.status.clone()
    }

    /// Stop syncing; nothing local is touched.
    pub fn stop(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}

fn jitter(d: Duration) -> Duration {
    let f = rand::rng().random_range(0.75..1.25);
    d.mul_f64(f)
}

/// Start the background task on the current tokio runtime.
pub fn spawn(store: SharedStore, config: SyncConfig) -> SyncHandle {
    let pending = lock(&store).pending_count().unwrap_or(0);
    let (tx, rx) = watch::channel(SyncStatus {
        state: SyncState::SignedOut,
        pending_changes: pending,
        last_synced_ms: None,
        last_error: None,
        progress: None,
        round_trips: 0,
    });
    let tx = Arc::new(tx);
    let nudge = Arc::new(Notify::new());
    let sync_task = tokio::spawn(run_sync(
        store.clone(),
        config.clone(),
        tx.clone(),
        nudge.clone(),
    ));
    let events_task = tokio::spawn(run_events(store, config, tx, nudge.clone()));
    SyncHandle {
        nudge,
        status: rx,
        tasks: vec![sync_task, events_task],
    }
}

async fn run_sync(
    store: SharedStore,
    config: SyncConfig,
    tx: Arc<watch::Sender<SyncStatus>>,
    nudge: Arc<Notify>,
) {
    let mut backoff = config.backoff_min;
    loop {
        let session = Session::load(&store).ok().flatten();
        let Some(session) = session.filter(|s| s.token.is_some()) else {
            let signed_out = Session::load(&store).ok().flatten().is_none();
            tx.send_modify(|s| {
                s.state = if signed_out {
                    SyncState::SignedOut
                } else {
                    SyncState::NeedsSignIn
                };
                s.pending_changes = lock(&store).pending_count().unwrap_or(s.pending_changes);
            });
            nudge.notified().await;
            continue;
        };
        // Built anew each round, so a transport setting changed meanwhile applies at once.
        let relay = match Relay::for_device(&store, &session.relay_url) {
            Ok(r) => r.with_clock(config.clock.clone()),
            Err(e) => {
                tx.send_modify(|s| s.last_error = Some((e.code(), e.to_string())));
                nudge.notified().await;
                continue;
            }
        };
        tx.send_modify(|s| s.state = SyncState::Syncing);
        // A token near its end is exchanged first; failing that (offline, refused), the sync
        // below meets the same condition and reports it.
        let session =
            match crate::session::refreshed(&store, &relay, session.clone(), now_ms()).await {
                Ok(s) => s,
                Err(_) => session,
            };
        let result = sync_once(&store, &relay, &session, |report, more| {
            // Shown once the feed takes more than one answer, up to its last one (n == N).
            tx.send_modify(|s| {
                if more || s.progress.is_some() {
                    s.progress = report.progress();
                }
            });
        })
        .await;
        config.clock.reload(&store);
        let pending = lock(&store).pending_count().unwrap_or(0);
        let wait = match result {
            Ok(report) => {
                backoff = config.backoff_min;
                tx.send_modify(|s| {
                    s.state = SyncState::Online;
                    s.pending_changes = pending;
                    s.last_synced_ms = Some(now_ms());
                    s.last_error = report
                        .rejected
                        .first()
                        .map(|(doc, code)| (*code, format!("the relay refused changes to {doc}")));
                    s.progress = None;
                    s.round_trips += u64::from(report.round_trips);
                });
                config.poll_every
            }
            Err(e) => {
                let needs_sign_in = e.needs_sign_in();
                if needs_sign_in {
                    let _ = sign_out_locally(&store);
                }
                tx.send_modify(|s| {
                    s.state = if needs_sign_in {
                        SyncState::NeedsSignIn
                    } else if e.is_offline() {
                        SyncState::Offline
                    } else {
                        s.state
                    };
                    if s.state == SyncState::Syncing {
                        s.state = SyncState::Offline;
                    }
                    s.pending_changes = pending;
                    s.last_error = Some((e.code(), e.to_string()));
                    s.progress = None;
                });
                if needs_sign_in {
                    nudge.notified().await;
                    continue;
                }
                let w = jitter(backoff);
                backoff = (backoff * 2).min(config.backoff_max);
                w
            }
        };
        // Wait for a nudge (then debounce) or the timer.
        tokio::select! {
            _ = nudge.notified() => {
                tokio::time::sleep(config.debounce).await;
            }
            _ = tokio::time::sleep(wait) => {}
        }
        tx.send_modify(|s| {
            s.pending_changes = lock(&store).pending_count().unwrap_or(s.pending_changes)
        });
    }
}

/// Whether `token` is still the session's token on the device (not exchanged meanwhile).
fn still_current(store: &SharedStore, token: &str) -> bool {
    Session::load(store)
        .ok()
        .flatten()
        .and_then(|s| s.token)
        .is_some_and(|t| t == token)
}

async fn run_events(
    store: SharedStore,
    config: SyncConfig,
    tx: Arc<watch::Sender<SyncStatus>>,
    nudge: Arc<Notify>,
) {
    let mut backoff = config.backoff_min;
    loop {
        let session = Session::load(&store).ok().flatten();
        let (Some(session), Ok(relay)) = (
            session.clone().filter(|s| s.token.is_some()),
            Relay::for_device(
                &store,
                &session
                    .as_ref()
                    .map(|s| s.relay_url.clone())
                    .unwrap_or_default(),
            ),
        ) else {
            tokio::time::sleep(jitter(config.backoff_max / 4)).await;
            continue;
        };
        let token = session.token.clone().unwrap_or_default();
        let result = relay
            .events(&token, |event| match event {
                PushEvent::FeedAdvanced { cursor: head } => {
                    if head > cursor(&store) {
                        nudge.notify_one();
                    }
                }
                // A token exchanged for a fresh one ends its stream too: only the token still
                // kept on the device signs the device out.
                PushEvent::SignedOut { code } if still_current(&store, &token) => {
                    let _ = sign_out_locally(&store);
                    tx.send_modify(|s| {
                        s.state = SyncState::NeedsSignIn;
                        s.last_error =
                            Some((code, "signed out by the relay; sign in again".into()));
                    });
                }
                PushEvent::SignedOut { .. } => {}
            })
            .await;
        match result {
            Ok(()) => backoff = config.backoff_min,
            Err(e @ ClientError::Auth { .. }) if still_current(&store, &token) => {
                let _ = sign_out_locally(&store);
                tx.send_modify(|s| {
                    s.state = SyncState::NeedsSignIn;
                    s.last_error = Some((e.code(), e.to_string()));
                });
            }
            Err(_) => {
                // The relay is unreachable; the sync loop reports it. Reconnecting will also
                // notice when connectivity returns and trigger a sync.
                tokio::time::sleep(jitter(backoff)).await;
                backoff = (backoff * 2).min(config.backoff_max);
                nudge.notify_one();
            }
        }
    }
}
