//! HTTP routes (`/healthz`, `/api/v1/...`), body handling, auth and the SSE push stream.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use futures_util::{Stream, StreamExt, stream};
use onsite_domain::Code;
use onsite_sync::SyncError;
use onsite_sync::relay::{Caller, HandleError};
use onsite_wire::{
    API_VERSION, Capabilities, ErrorBody, PushEvent, Role, SYNC_PROTOCOL, SignInRequest,
    SignInResponse, SyncRequest,
};
use serde::de::DeserializeOwned;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::trace::TraceLayer;

use crate::accounts::{self, AuthError, Authenticated};
use crate::certificate;
use crate::config::Config;
use crate::push::PushHub;
use crate::storage::{RelayStorage, StorageError};

/// Milliseconds since the Unix epoch, relay time.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    storage: Arc<dyn RelayStorage>,
    config: Arc<Config>,
    events: Arc<PushHub>,
    /// Turns for password checks (Argon2id is memory-hard: a burst of sign-ins must not take the
    /// relay's memory).
    password_checks: Arc<Semaphore>,
    /// Turns for a sync request's storage work ([`sync_turns`]).
    syncs: Arc<Semaphore>,
    /// The database's epoch, read at start (`crate::backup`), in every sync answer.
    epoch: Option<Arc<str>>,
}

/// Sync requests whose storage work (loading, merging and checking Automerge documents, then
/// committing) runs at once: twice the CPU cores. The work is CPU-bound, so more at once only
/// adds memory — each holds its documents loaded — and blocking threads; further requests wait
/// for a turn (within the request time limit). Measured in `docs/benchmarks.md` (issue 13 §2).
pub fn sync_turns() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) * 2
}

impl AppState {
    pub fn new(storage: Arc<dyn RelayStorage>, config: Config) -> Self {
        let checks = config.max_concurrent_password_checks.max(1) as usize;
        AppState {
            storage,
            config: Arc::new(config),
            events: Arc::new(PushHub::default()),
            password_checks: Arc::new(Semaphore::new(checks)),
            syncs: Arc::new(Semaphore::new(sync_turns())),
            epoch: None,
        }
    }

    /// Answer every sync with the database's `epoch` (`crate::backup::epoch`).
    pub fn with_epoch(mut self, epoch: String) -> Self {
        self.epoch = Some(epoch.into());
        self
    }

    /// The storage, e.g. for the public verify page ([`RelayStorage::order_record`]).
    pub fn storage(&self) -> &Arc<dyn RelayStorage> {
        &self.storage
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Pass the commits other relay instances made ([`RelayStorage::foreign_commits`]) to this
    /// instance's push streams, as if they were its own.
    pub fn push_foreign(
        &self,
        mut foreign: broadcast::Receiver<Arc<onsite_sync::relay::Committed>>,
    ) -> tokio::task::JoinHandle<()> {
        let events = self.events.clone();
        tokio::spawn(async move {
            // After commits were dropped, the next one is told to every stream: some of the
            // dropped ones may have concerned streams the next one does not.
            let mut lagged = false;
            loop {
                match foreign.recv().await {
                    Ok(c) if lagged => {
                        events.send(&onsite_sync::relay::Committed::everyone(c.head));
                        lagged = false;
                    }
                    Ok(c) => events.send(&c),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(n, "push: other instances' commits were dropped");
                        lagged = true;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        })
    }
}

/// An error answer: status plus [`ErrorBody`].
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    /// Seconds to wait before trying again (`Retry-After`), for 429 and 503 answers.
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: Code, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody::new(code, message),
            retry_after_secs: None,
        }
    }

    /// The same answer with a `Retry-After` of `secs` (at least 1).
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs.max(1));
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(self.body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            r.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        r
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let status = match e {
            AuthError::Disabled => StatusCode::FORBIDDEN,
            AuthError::Input(_) => StatusCode::BAD_REQUEST,
            AuthError::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
            AuthError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::UNAUTHORIZED,
        };
        if let AuthError::Storage(s) = &e {
            tracing::error!(error = %s, "storage failed during authentication");
        }
        let answer = ApiError::new(status, e.code(), e.to_string());
        match e {
            AuthError::Throttled { wait_ms } => {
                answer.retry_after((wait_ms.max(0) as u64).div_ceil(1000))
            }
            _ => answer,
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        tracing::error!(error = %e, "storage failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Code::RelayUnavailable,
            format!("relay storage failed ({e}); nothing was acknowledged, retry later"),
        )
    }
}

fn internal(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        Code::RelayInternal,
        format!("{what}; nothing was acknowledged, retry later"),
    )
}

/// Build the relay's router. Add further routes (e.g. `/verify/...`) with `Router::merge`.
/// Every request but the push stream has a time limit and waits for one of a bounded number of
/// turns; every error answer, 404 and 405 included, carries an [`ErrorBody`].
pub fn router(state: AppState) -> Router {
    let bounded = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/v1/capabilities", get(capabilities))
        .route("/api/v1/sign-in", post(sign_in))
        .route("/api/v1/sign-out", post(sign_out))
        .route("/api/v1/session/refresh", post(refresh))
        .route("/api/v1/sync", post(sync))
        .route(
            "/api/v1/attachments/{sha256}",
            axum::routing::put(crate::attachments::put).get(crate::attachments::get),
        )
        .route("/api/v1/export/records", get(crate::export::records))
        .route("/api/v1/history", get(crate::history::search))
        .layer(crate::limits::layers(&state.config));
    Router::new()
        .route("/api/v1/events", get(events))
        .merge(bounded)
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                Code::RouteNotFound,
                "no such route; see /api/v1/capabilities",
            )
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                Code::RouteMethodNotAllowed,
                "this route does not take this method; see /api/v1/capabilities",
            )
        })
        .layer(RequestDecompressionLayer::new())
        // zstd to a client that takes it (the app does), else gzip. Level 3, not gzip's default
        // 6: at the default, gzip cost a first sync's page more of the relay's CPU than reading
        // it; at level 3 it sent 15 % more bytes than the default (session 16). zstd at the
        // same level takes a fraction of gzip's CPU on both sides and sends 16 % fewer bytes
        // than gzip (a first sync of 2,000 documents: 311 KB against 370 KB; 3 % faster), and
        // the load run's relay needed less CPU at the same memory (docs/benchmarks.md,
        // session 17) — devices are often on mobile data.
        .layer(CompressionLayer::new().quality(CompressionLevel::Precise(3)))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn capabilities(State(st): State<AppState>) -> axum::Json<Capabilities> {
    axum::Json(Capabilities {
        server: "onsite-relay".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        api_versions: vec![API_VERSION],
        sync_protocol: SYNC_PROTOCOL.into(),
        max_body_bytes: st.config.max_body_bytes,
        max_doc_bytes: st.config.max_doc_bytes,
        max_docs_per_response: st.config.max_docs_per_response,
        encodings: vec!["gzip".into()],
        features: vec!["events".into()],
    })
}

/// Read a JSON body: `application/json`, at most `limit` bytes after decompression.
async fn read_json<T: DeserializeOwned>(
    limit: u64,
    headers: &HeaderMap,
    body: Body,
) -> Result<T, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("application/json")
    {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::RequestUnsupportedContentType,
            format!("the body must be 'application/json', not '{ct}'"),
        ));
    }
    let limit = limit as usize;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::RequestTooLarge,
            format!(
                "the request body is larger than the relay's limit of {limit} bytes; sync fewer documents per request"
            ),
        )
    };
    let mut buf = Vec::new();
    let mut data = body.into_data_stream();
    while let Some(chunk) = data.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                Code::RequestBadEncoding,
                format!("the request body could not be read or decompressed ({e}); resend it"),
            )
        })?;
        if buf.len() + chunk.len() > limit {
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&buf).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            Code::RequestMalformed,
            format!("the request body is not valid: {e}"),
        )
    })
}

pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| internal("the request failed inside the relay"))
}

pub(crate) async fn authenticated(
    st: &AppState,
    headers: &HeaderMap,
) -> Result<Authenticated, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::Missing)?
        .to_owned();
    let storage = st.storage.clone();
    Ok(blocking(move || accounts::authenticate(storage.as_ref(), &token, now_ms())).await??)
}

/// Largest sign-in body: a user id, a password and a device id.
const SIGN_IN_BODY_BYTES: u64 = 4 * 1024;

async fn sign_in(
    State(st): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Body,
) -> Result<axum::Json<SignInResponse>, ApiError> {
    let req: SignInRequest = read_json(SIGN_IN_BODY_BYTES, &headers, body).await?;
    // Behind a trusted proxy the client is who the proxy says (`X-Forwarded-For`), else the peer.
    let from = peer.map(|Extension(ConnectInfo(a))| {
        crate::forwarded::client_address(a.ip(), &headers, &st.config.trusted_proxies)
    });
    let turn = password_check_turn(&st).await?;
    let storage = st.storage.clone();
    let ttl = st.config.token_ttl_hours as i64 * 3_600_000;
    let user_id = req.user_id.clone();
    let (session, certificate_path) = blocking(move || {
        let _turn = turn;
        let now = now_ms();
        let session = accounts::sign_in(
            storage.as_ref(),
            &req.user_id,
            &req.password,
            &req.device_id,
            now,
            ttl,
            from,
        )?;
        // A technician's certificate link; a damaged profile only costs the link, not the sign-in.
        let path = match session.user.role {
            Role::Technician => certificate::path_of(storage.as_ref(), &session.user.user_id, now)
                .inspect_err(|e| tracing::warn!(error = %e, "no certificate link"))
                .ok()
                .flatten(),
            _ => None,
        };
        Ok::<_, AuthError>((session, path))
    })
    .await?
    .inspect_err(|e| tracing::warn!(user = %user_id, code = %e.code(), "sign-in refused"))?;
    tracing::info!(user = %session.user.user_id, device = %session.record.device_id, "signed in");
    Ok(axum::Json(SignInResponse {
        token: session.token,
        expires_at_ms: session.record.expires_at_ms,
        role: session.user.role,
        user_id: session.user.user_id,
        display_name: session.user.display_name,
        order_prefix: session.order_prefix,
        certificate_path,
    }))
}

/// `POST /api/v1/session/refresh`: a fresh token for the caller's device in exchange for the
/// one it sends, which stops working ([`accounts::refresh`]).
async fn refresh(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> Result<axum::Json<SignInResponse>, ApiError> {
    let auth = authenticated(&st, &headers).await?;
    let storage = st.storage.clone();
    let ttl = st.config.token_ttl_hours as i64 * 3_600_000;
    let (session, certificate_path) = blocking(move || {
        let now = now_ms();
        let session = accounts::refresh(storage.as_ref(), &auth, now, ttl)?;
        let path = match session.user.role {
            Role::Technician => certificate::path_of(storage.as_ref(), &session.user.user_id, now)
                .ok()
                .flatten(),
            _ => None,
        };
        Ok::<_, AuthError>((session, path))
    })
    .await??;
    tracing::info!(user = %session.user.user_id, device = %session.record.device_id, "session refreshed");
    Ok(axum::Json(SignInResponse {
        token: session.token,
        expires_at_ms: session.record.expires_at_ms,
        role: session.user.role,
        user_id: session.user.user_id,
        display_name: session.user.display_name,
        order_prefix: session.order_prefix,
        certificate_path,
    }))
}

/// Wait (at most `sign_in_wait_secs`) for a turn to check a password.
async fn password_check_turn(st: &AppState) -> Result<OwnedSemaphorePermit, ApiError> {
    let wait = Duration::from_secs(st.config.sign_in_wait_secs);
    match tokio::time::timeout(wait, st.password_checks.clone().acquire_owned()).await {
        Ok(Ok(turn)) => Ok(turn),
        _ => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Code::RelayBusy,
            "the relay is checking too many passwords at once; try again shortly",
        )
        .retry_after(1)),
    }
}

async fn sign_out(State(st): State<AppState>, headers: HeaderMap) -> Result<StatusCode, ApiError> {
    let auth = authenticated(&st, &headers).await?;
    let storage = st.storage.clone();
    blocking(move || storage.revoke_token(&auth.token_sha256, now_ms())).await??;
    Ok(StatusCode::NO_CONTENT)
}

async fn sync(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let auth = authenticated(&st, &headers).await?;
    let req: SyncRequest = read_json(st.config.max_body_bytes, &headers, body).await?;
    let caller = Caller {
        principal: auth.principal,
        device_id: auth.device_id,
    };
    let storage = st.storage.clone();
    let limits = st.config.limits();
    let turn = st
        .syncs
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| internal("the relay is shutting down"))?;
    let (caller, sent, result) = blocking(move || {
        let _turn = turn;
        let r = storage.sync(&caller, &req, &limits, now_ms());
        (caller, req.docs.len(), r)
    })
    .await?;
    let handled = result.map_err(|e| match e {
        HandleError::Refused(e) => {
            tracing::warn!(user = %caller.principal.user_id, code = %e.code(), error = %e, "sync refused");
            refused(&e)
        }
        HandleError::Storage(s) => ApiError::from(s),
    })?;
    let r = &handled.response;
    tracing::info!(
        user = %caller.principal.user_id,
        device = %caller.device_id,
        sent,
        stored = r.stored_changes,
        answered = r.docs.len(),
        rejected = r.rejected.len(),
        cursor = r.cursor,
        more = r.more,
        "sync"
    );
    if let Some(c) = &handled.committed {
        st.events.send(c);
    }
    let mut response = handled.response;
    response.epoch = st.epoch.as_deref().map(str::to_owned);
    Ok(axum::Json(response).into_response())
}

/// The answer to a refused sync request. A request whose documents kept changing while it was
/// handled (`relay.busy`) stored nothing and is to be sent again: 503 with `Retry-After`, as a
/// busy sign-in, so proxies and clients retry it rather than treat it as a bad request.
fn refused(e: &SyncError) -> ApiError {
    let status = match e {
        SyncError::CursorAhead { .. } => StatusCode::CONFLICT,
        SyncError::BadState { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        SyncError::Contended => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let answer = ApiError::new(status, e.code(), e.to_string());
    match e {
        SyncError::Contended => answer.retry_after(1),
        _ => answer,
    }
}

fn sse_event(e: &PushEvent) -> Event {
    Event::default()
        .event(e.name())
        .data(serde_json::to_string(e).expect("push events serialise"))
}

struct Listener {
    st: AppState,
    auth: Authenticated,
    rx: broadcast::Receiver<u64>,
    done: bool,
}

/// How often an open push stream checks that its token is still valid, so a stream of a revoked
/// token (signed out, disabled, or revoked from the command line by another process) ends within
/// seconds even when nothing is committed.
const PUSH_RECHECK: std::time::Duration = std::time::Duration::from_secs(3);

async fn next_push(mut l: Listener) -> Option<(Result<Event, Infallible>, Listener)> {
    if l.done {
        return None;
    }
    loop {
        let received = tokio::select! {
            r = l.rx.recv() => Some(r),
            () = tokio::time::sleep(PUSH_RECHECK) => None,
        };
        let head = match received {
            None => None,
            Some(Ok(head)) => Some(head),
            Some(Err(broadcast::error::RecvError::Lagged(_))) => {
                let storage = l.st.storage.clone();
                match blocking(move || storage.head_seq()).await {
                    Ok(Ok(h)) => Some(h),
                    _ => continue,
                }
            }
            Some(Err(broadcast::error::RecvError::Closed)) => return None,
        };
        if !token_still_valid(&l).await {
            l.done = true;
            let e = PushEvent::SignedOut {
                code: Code::AuthTokenRevoked,
            };
            return Some((Ok(sse_event(&e)), l));
        }
        if let Some(head) = head {
            return Some((Ok(sse_event(&PushEvent::FeedAdvanced { cursor: head })), l));
        }
    }
}

/// Whether the stream's token is neither revoked nor expired now.
async fn token_still_valid(l: &Listener) -> bool {
    let storage = l.st.storage.clone();
    let token = l.auth.token_sha256.clone();
    let still = blocking(move || storage.token(&token)).await;
    matches!(&still, Ok(Ok(Some(t))) if t.revoked_at_ms.is_none() && t.expires_at_ms > now_ms())
}

async fn events(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let auth = authenticated(&st, &headers).await?;
    let rx = st.events.subscribe(&auth.principal);
    let storage = st.storage.clone();
    let head = blocking(move || storage.head_seq()).await??;
    tracing::info!(user = %auth.principal.user_id, device = %auth.device_id, "push stream opened");
    let first = stream::once(async move {
        Ok::<_, Infallible>(sse_event(&PushEvent::FeedAdvanced { cursor: head }))
    });
    let rest = stream::unfold(
        Listener {
            st,
            auth,
            rx,
            done: false,
        },
        next_push,
    );
    Ok(Sse::new(first.chain(rest)).keep_alive(KeepAlive::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contended_sync_is_answered_as_busy_and_to_be_retried() {
        let busy = refused(&SyncError::Contended).into_response();
        assert_eq!(
            busy.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "nothing was stored and the request is to be sent again: not a bad request"
        );
        assert!(
            busy.headers().contains_key(header::RETRY_AFTER),
            "a busy answer says when to come back"
        );
        let ahead = refused(&SyncError::CursorAhead { cursor: 9, head: 3 }).into_response();
        assert_eq!(
            ahead.status(),
            StatusCode::CONFLICT,
            "a cursor ahead is a conflict"
        );
        assert!(
            !ahead.headers().contains_key(header::RETRY_AFTER),
            "sending the same request again cannot help"
        );
        let dup = refused(&SyncError::DuplicateDoc(onsite_domain::DocId::Templates));
        assert_eq!(
            dup.into_response().status(),
            StatusCode::BAD_REQUEST,
            "a malformed request stays a bad request"
        );
    }
}
