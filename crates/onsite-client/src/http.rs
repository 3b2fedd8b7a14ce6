//! The HTTP transport to the relay's `/api/v1`.

use std::io::Write;
use std::time::Duration;

use futures_util::StreamExt;
use onsite_wire::{
    API_PREFIX, Capabilities, Code, ErrorBody, PushEvent, SignInRequest, SignInResponse,
    SyncRequest, SyncResponse,
};
use reqwest::StatusCode;

use crate::ClientError;
use crate::transport::Transport;

/// Bytes moved by one exchange (request body as sent, response body as received).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Traffic {
    pub up: u64,
    pub down: u64,
}

/// A relay reached over HTTP(S). Every request goes through a `Relay` built by
/// [`Relay::with_transport`] (or [`Relay::for_device`]), which refuses plain `http://` to another
/// machine unless the device allows it, so nothing is ever sent over such a URL.
#[derive(Debug, Clone)]
pub struct Relay {
    http: reqwest::Client,
    /// The push stream's client: no overall time limit.
    stream: reqwest::Client,
    base: String,
    /// How far the relay's clock was ahead of the device's at its latest answer
    /// (`crate::clock`).
    offset: std::sync::Arc<std::sync::Mutex<Option<i64>>>,
    /// The device clock the offset is measured against.
    clock: crate::RelayClock,
}

/// Requests larger than this are gzip-compressed.
const COMPRESS_OVER: usize = 1024;

impl Relay {
    /// A client for the relay at `base_url` (e.g. `https://relay.example` or
    /// `http://127.0.0.1:8080`) with the default transport: built-in roots, plain HTTP only to
    /// this machine.
    pub fn new(base_url: &str) -> Result<Relay, ClientError> {
        Relay::with_transport(base_url, &Transport::default())
    }

    /// A client for the relay at `base_url` with the transport settings stored on this device.
    pub fn for_device(store: &crate::SharedStore, base_url: &str) -> Result<Relay, ClientError> {
        Relay::with_transport(base_url, &Transport::load(store)?)
    }

    /// A client for the relay at `base_url` with `transport`'s rules and extra roots.
    pub fn with_transport(base_url: &str, transport: &Transport) -> Result<Relay, ClientError> {
        Relay::build(base_url, transport, None)
    }

    /// [`Relay::with_transport`], connecting to `addr` whatever the URL's host resolves to (a
    /// relay known by a name the local resolver does not know; tests on 127.0.0.1).
    pub fn resolving(
        base_url: &str,
        transport: &Transport,
        addr: std::net::SocketAddr,
    ) -> Result<Relay, ClientError> {
        Relay::build(base_url, transport, Some(addr))
    }

    fn build(
        base_url: &str,
        transport: &Transport,
        addr: Option<std::net::SocketAddr>,
    ) -> Result<Relay, ClientError> {
        let base = base_url.trim().trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&base).map_err(|_| ClientError::BadUrl(base.clone()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(ClientError::BadUrl(base));
        }
        transport.check(&parsed)?;
        let roots = transport.roots()?;
        let client = |timeout: Option<Duration>| {
            let mut b = reqwest::Client::builder().connect_timeout(Duration::from_secs(5));
            if let Some(t) = timeout {
                b = b.timeout(t);
            }
            for root in &roots {
                b = b.add_root_certificate(root.clone());
            }
            if let (Some(addr), Some(host)) = (addr, parsed.host_str()) {
                b = b.resolve(host, addr);
            }
            b.build().map_err(|e| match roots.is_empty() {
                true => ClientError::BadUrl(format!("{base}: {e}")),
                false => ClientError::BadTrustedRoot(e.to_string()),
            })
        };
        Ok(Relay {
            http: client(Some(Duration::from_secs(60)))?,
            stream: client(None)?,
            base: base.clone(),
            offset: Default::default(),
            clock: crate::RelayClock::default(),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Measure the relay's clock against `clock`'s device time (the system clock by default).
    pub fn with_clock(mut self, clock: crate::RelayClock) -> Relay {
        self.clock = clock;
        self
    }

    /// How far the relay's clock was ahead of this device's at its latest answer, if it dated one.
    pub fn observed_offset(&self) -> Option<i64> {
        *self.offset.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Send `request`, noting the relay's clock from the answer's `Date`.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ClientError> {
        let sent = self.clock.device_now();
        let resp = request.send().await.map_err(|e| self.offline(e))?;
        let date = resp.headers().get(reqwest::header::DATE);
        let offset = crate::clock::offset_of(
            date.and_then(|d| d.to_str().ok()),
            sent,
            self.clock.device_now(),
        );
        if offset.is_some() {
            *self.offset.lock().unwrap_or_else(|p| p.into_inner()) = offset;
        }
        Ok(resp)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{API_PREFIX}{path}", self.base)
    }

    fn offline(&self, e: reqwest::Error) -> ClientError {
        ClientError::Offline {
            url: self.base.clone(),
            detail: e.to_string(),
        }
    }

    async fn error_from(&self, resp: reqwest::Response) -> ClientError {
        let status = resp.status();
        let body: Option<ErrorBody> = resp.json().await.ok();
        let (code, message) = match body {
            Some(b) => (b.code, b.message),
            None => (
                Code::RelayUnexpected,
                format!("the relay answered {status}"),
            ),
        };
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            ClientError::Auth { code, message }
        } else {
            ClientError::Relay {
                status: status.as_u16(),
                code,
                message,
            }
        }
    }

    /// Send `request`; a failure to reach the relay is offline, an error answer its error.
    async fn answer(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ClientError> {
        let resp = self.send(request).await?;
        if !resp.status().is_success() {
            return Err(self.error_from(resp).await);
        }
        Ok(resp)
    }

    /// Send `request` and read its JSON answer.
    async fn json_answer<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        self.answer(request)
            .await?
            .json()
            .await
            .map_err(|e| ClientError::BadResponse(e.to_string()))
    }

    /// `GET /api/v1/capabilities`, checking that the relay speaks API version 1.
    pub async fn capabilities(&self) -> Result<Capabilities, ClientError> {
        let caps: Capabilities = self
            .json_answer(self.http.get(self.url("/capabilities")))
            .await?;
        if !caps.api_versions.contains(&onsite_wire::API_VERSION) {
            return Err(ClientError::IncompatibleRelay(caps.api_versions));
        }
        Ok(caps)
    }

    /// `POST /api/v1/sign-in`.
    pub async fn sign_in(&self, req: &SignInRequest) -> Result<SignInResponse, ClientError> {
        self.json_answer(self.http.post(self.url("/sign-in")).json(req))
            .await
    }

    /// `POST /api/v1/session/refresh`: a fresh token in exchange for `token`, which stops working.
    pub async fn refresh(&self, token: &str) -> Result<SignInResponse, ClientError> {
        let request = self.http.post(self.url("/session/refresh"));
        self.json_answer(request.bearer_auth(token)).await
    }

    /// `POST /api/v1/sign-out`: the relay revokes `token`.
    pub async fn sign_out(&self, token: &str) -> Result<(), ClientError> {
        let request = self.http.post(self.url("/sign-out"));
        self.answer(request.bearer_auth(token)).await.map(drop)
    }

    /// `POST /api/v1/sync`; bodies over 1 KiB travel gzip-compressed.
    pub async fn sync(
        &self,
        token: &str,
        req: &SyncRequest,
    ) -> Result<(SyncResponse, Traffic), ClientError> {
        let json = serde_json::to_vec(req).map_err(|e| ClientError::BadResponse(e.to_string()))?;
        let compress = json.len() > COMPRESS_OVER;
        let body = if compress { gzip(&json) } else { json };
        let mut builder = self
            .http
            .post(self.url("/sync"))
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        if compress {
            builder = builder.header(reqwest::header::CONTENT_ENCODING, "gzip");
        }
        let up = body.len() as u64;
        let resp = self.send(builder.body(body)).await?;
        if !resp.status().is_success() {
            return Err(self.error_from(resp).await);
        }
        let bytes = resp.bytes().await.map_err(|e| self.offline(e))?;
        let parsed: SyncResponse =
            serde_json::from_slice(&bytes).map_err(|e| ClientError::BadResponse(e.to_string()))?;
        Ok((
            parsed,
            Traffic {
                up,
                down: bytes.len() as u64,
            },
        ))
    }

    /// `GET /api/v1/history`: the jobs of the relay's whole history `query` finds.
    pub async fn history(
        &self,
        token: &str,
        query: &onsite_wire::HistoryQuery,
    ) -> Result<onsite_wire::HistoryAnswer, ClientError> {
        let request = self.http.get(self.url("/history")).query(query);
        self.json_answer(request.bearer_auth(token)).await
    }

    /// `PUT /api/v1/attachments/<sha256>`: upload one attachment (idempotent).
    pub async fn put_attachment(
        &self,
        token: &str,
        sha256: &str,
        mime: &str,
        bytes: Vec<u8>,
    ) -> Result<u64, ClientError> {
        let up = bytes.len() as u64;
        let resp = self
            .http
            .put(self.url(&format!("/attachments/{sha256}")))
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, mime)
            .body(bytes)
            .send()
            .await
            .map_err(|e| self.offline(e))?;
        if !resp.status().is_success() {
            return Err(self.error_from(resp).await);
        }
        Ok(up)
    }

    /// `GET /api/v1/attachments/<sha256>`: the bytes and their MIME type.
    pub async fn attachment(
        &self,
        token: &str,
        sha256: &str,
    ) -> Result<(Vec<u8>, String), ClientError> {
        let resp = self
            .http
            .get(self.url(&format!("/attachments/{sha256}")))
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| self.offline(e))?;
        if !resp.status().is_success() {
            return Err(self.error_from(resp).await);
        }
        let mime = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let bytes = resp.bytes().await.map_err(|e| self.offline(e))?;
        Ok((bytes.to_vec(), mime))
    }

    /// `GET /api/v1/events`: calls `on_event` for every push event until the stream ends or
    /// fails. Returns `Ok(())` when the relay closed the stream.
    pub async fn events(
        &self,
        token: &str,
        mut on_event: impl FnMut(PushEvent),
    ) -> Result<(), ClientError> {
        let resp = self
            .stream
            .get(self.url("/events"))
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .send()
            .await
            .map_err(|e| self.offline(e))?;
        if !resp.status().is_success() {
            return Err(self.error_from(resp).await);
        }
        let mut stream = resp.bytes_stream();
        let mut buf = String::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.offline(e))?;
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let frame: String = buf.drain(..end + 2).collect();
                if let Some(event) = parse_sse_frame(&frame) {
                    on_event(event);
                }
            }
        }
        Ok(())
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes)
        .and_then(|_| enc.finish())
        .expect("writing to a Vec cannot fail")
}

/// One SSE frame (`event:` / `data:` lines) as a push event; comments and unknown events are
/// skipped.
pub(crate) fn parse_sse_frame(frame: &str) -> Option<PushEvent> {
    let data: String = frame
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim_start)
        .collect::<Vec<_>>()
        .join("\n");
    if data.is_empty() {
        return None;
    }
    serde_json::from_str(&data).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_frames_parse_to_push_events() {
        let f = "event: feed\ndata: {\"type\":\"feed_advanced\",\"cursor\":12}\n\n";
        assert_eq!(
            parse_sse_frame(f),
            Some(PushEvent::FeedAdvanced { cursor: 12 })
        );
        assert_eq!(
            parse_sse_frame(": keep-alive\n\n"),
            None,
            "comments are ignored"
        );
        assert_eq!(parse_sse_frame("data: not json\n\n"), None);
    }

    #[test]
    fn relay_urls_are_checked() {
        assert!(Relay::new("http://127.0.0.1:8080/").is_ok());
        for bad in ["", "127.0.0.1:8080", "ftp://x", "http://"] {
            let err = Relay::new(bad).unwrap_err();
            assert_eq!(err.code(), "sync.bad_url", "'{bad}' must be refused");
        }
    }
}
