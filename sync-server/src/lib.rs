//! The relay: accounts, tokens, per-document access control and the changes feed over HTTP.
//!
//! Run in-process (tests, the headless demo):
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let dir = tempfile::tempdir()?;
//! let config = onsite_relay::Config::for_database(dir.path().join("relay.sqlite3"));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let relay = onsite_relay::start(config, listener).await?;
//! println!("relay at {}", relay.url());
//! relay.stop().await;
//! # Ok(()) }
//! ```

pub mod accounts;
pub mod api;
pub mod attachments;
pub mod backup;
pub mod cert_page;
pub mod certificate;
pub mod config;
pub mod export;
pub mod forwarded;
pub mod history;
pub mod limits;
pub mod outbox;
pub mod outward;
pub mod password_memory;
pub mod postgres;
pub mod push;
pub mod reminders;
pub mod seed;
pub mod sender;
pub mod sqlite;
pub mod storage;
pub mod throttle;
pub mod tls;
pub mod tokens;
pub mod verify;
pub mod webhooks;
pub mod written;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use api::{AppState, router};
pub use config::Config;
pub use postgres::PostgresStorage;
pub use sqlite::SqliteStorage;
pub use storage::RelayStorage;
use tokio::net::TcpListener;

/// The relay could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot open the database: {0}")]
    Storage(#[from] storage::StorageError),
    #[error("network error: {0}")]
    Io(#[from] std::io::Error),
    #[error("the outbox settings are not usable: {0}")]
    Outbox(#[from] webhooks::WebhookError),
    #[error("the TLS settings are not usable: {0}")]
    Tls(#[from] tls::TlsError),
}

/// Open the configured database and serve on `listener` until the process ends: over TLS when
/// `tls_cert`/`tls_key` are set, else plain HTTP.
pub async fn serve(config: Config, listener: TcpListener) -> Result<(), ServeError> {
    let Setup { app, tls, .. } = setup(config, &listener)?;
    let handle = axum_server::Handle::new();
    run(
        listener,
        app,
        tls.map(|t| t.config),
        handle,
        std::future::pending(),
    )
    .await?;
    Ok(())
}

/// Serve `app` on `listener` — with `tls`, over TLS — until `shutdown` resolves; then stop
/// accepting and let in-flight requests finish (at most 5 s).
async fn run(
    listener: TcpListener,
    app: axum::Router,
    tls: Option<axum_server::tls_rustls::RustlsConfig>,
    handle: axum_server::Handle<SocketAddr>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let Some(tls) = tls else {
        return axum::serve(listener, with_peer(app))
            .with_graceful_shutdown(shutdown)
            .await;
    };
    let server = axum_server::from_tcp_rustls(listener.into_std()?, tls)?.handle(handle.clone());
    let serving = server.serve(with_peer(app));
    tokio::pin!(serving);
    tokio::select! {
        r = &mut serving => r,
        () = shutdown => {
            handle.graceful_shutdown(Some(Duration::from_secs(5)));
            serving.await
        }
    }
}

/// A relay running in this process (tests, demo).
pub struct RunningRelay {
    pub addr: SocketAddr,
    pub storage: Arc<dyn RelayStorage>,
    /// `https` when serving TLS, else `http`.
    scheme: &'static str,
    /// The certificate reloads, when serving TLS.
    pub tls_reloads: Option<Arc<tls::Reloads>>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    /// Cuts TLS connections at once on [`RunningRelay::kill`].
    handle: axum_server::Handle<SocketAddr>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The outbox's delivery task, the reminders' task and the certificate watcher.
    background: Vec<tokio::task::JoinHandle<()>>,
}

/// Open the database and serve on `listener` in a background task (over TLS when
/// `tls_cert`/`tls_key` are set).
pub async fn start(config: Config, listener: TcpListener) -> Result<RunningRelay, ServeError> {
    let addr = listener.local_addr()?;
    let Setup {
        storage,
        app,
        background,
        tls,
    } = setup(config, &listener)?;
    let (shutdown, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = axum_server::Handle::new();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let tls_reloads = tls.as_ref().map(|t| t.reloads.clone());
    let serving = run(
        listener,
        app,
        tls.map(|t| t.config),
        handle.clone(),
        async move {
            let _ = rx.await;
        },
    );
    Ok(RunningRelay {
        addr,
        storage,
        scheme,
        tls_reloads,
        shutdown,
        handle,
        task: tokio::spawn(serving),
        background,
    })
}

/// The app with each connection's peer address available to handlers (sign-in throttling).
fn with_peer(
    app: axum::Router,
) -> axum::extract::connect_info::IntoMakeServiceWithConnectInfo<axum::Router, SocketAddr> {
    app.into_make_service_with_connect_info::<SocketAddr>()
}

/// What [`setup`] gives: the storage, the routes, the background tasks and the TLS in use.
struct Setup {
    storage: Arc<dyn RelayStorage>,
    app: axum::Router,
    background: Vec<tokio::task::JoinHandle<()>>,
    tls: Option<tls::Tls>,
}

/// What [`serve`] and [`start`] share: load the TLS pair if set, open the configured database,
/// build the routes (API and verification pages) over it and start the background tasks
/// (outbox deliveries, reminders, the certificate watcher).
fn setup(config: Config, listener: &TcpListener) -> Result<Setup, ServeError> {
    let tls = config.tls_files()?.map(tls::Tls::load).transpose()?;
    let storage = storage::open(&config.database)?;
    // The certificate-link key exists from the first start on (kept in the database for good).
    certificate::signing_key(storage.as_ref(), api::now_ms())?;
    tracing::info!(addr = %listener.local_addr()?, database = %storage::Database::of(&config.database).shown(), tls = tls.is_some(), "relay serving");
    let policy = config.outbox.policy();
    let clock = Arc::new(api::now_ms);
    let outbox = outbox::Outbox {
        storage: storage.clone(),
        messages: webhooks::message_sender(&config.outbox)?,
        client: sender::http_client(policy.timeout),
        policy,
        clock: clock.clone(),
    }
    .spawn(storage.committed());
    let reminders = (config.outbox.reminders_every_secs > 0).then(|| {
        let every = Duration::from_secs(config.outbox.reminders_every_secs);
        reminders::spawn(storage.clone(), every, clock, storage.committed())
    });
    // Devices compare it with the one they stored to notice a restored database.
    let epoch = backup::epoch(storage.as_ref(), api::now_ms())?;
    let state = AppState::new(storage.clone(), config).with_epoch(epoch);
    let mut background = vec![outbox];
    background.extend(reminders);
    background.extend(storage.foreign_commits().map(|rx| state.push_foreign(rx)));
    let app = router(state.clone())
        .merge(verify::routes(state.clone()))
        .merge(cert_page::routes(state));
    background.extend(tls.as_ref().map(|t| t.watch(tls::RELOAD_CHECK_EVERY)));
    Ok(Setup {
        storage,
        app,
        background,
        tls,
    })
}

impl RunningRelay {
    /// `http://127.0.0.1:<port>`, or `https://…` when serving TLS.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Stop accepting, let in-flight requests finish (at most 5 s), then stop.
    pub async fn stop(self) {
        self.background.iter().for_each(|t| t.abort());
        let _ = self.shutdown.send(());
        let abort = self.task.abort_handle();
        if tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .is_err()
        {
            abort.abort();
        }
    }

    /// Stop at once, as a crash would: open connections are cut.
    pub fn kill(self) {
        self.background.iter().for_each(|t| t.abort());
        self.handle.shutdown();
        self.task.abort();
    }
}
