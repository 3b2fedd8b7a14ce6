//! How an outbound message leaves the relay: the [`Sender`] trait and its two implementations —
//! [`WebhookSender`] (a signed HTTP POST: the webhooks, and an SMS/WeChat gateway for the
//! customer messages) and [`LogSender`] (writes the message to the relay's log: the demo).
//! The outbox ([`crate::outbox`]) decides when to send and records every attempt; a sender only
//! sends once and says how it went.

use std::time::Duration;

use futures_util::future::BoxFuture;
use hmac::{Hmac, Mac};
use onsite_wire::back_office::{EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use sha2::Sha256;

/// One message: its event id (the receiver's key to drop a repeat) and its JSON body.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    pub event_id: &'a str,
    pub body: &'a str,
}

/// How one send went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// The receiver took it (any 2xx).
    Delivered { status: Option<u16> },
    /// Not taken: an HTTP status other than 2xx, or no answer (`status` is `None`).
    Failed { status: Option<u16>, error: String },
}

/// Sends outbound messages.
pub trait Sender: Send + Sync {
    /// Send `message` once, signed at `now_ms` where the sender signs.
    fn send<'a>(&'a self, message: Message<'a>, now_ms: i64) -> BoxFuture<'a, Sent>;
}

/// `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`: the signature header's value.
pub fn signature(secret: &[u8], timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` is a valid signature of `body` at `timestamp` (constant-time comparison).
pub fn verify(secret: &[u8], timestamp: i64, body: &str, header: &str) -> bool {
    let Some(given) = header.strip_prefix("v1=").and_then(|h| hex::decode(h).ok()) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    mac.verify_slice(&given).is_ok()
}

/// POSTs the JSON body to a URL, signed with a shared secret (headers [`TIMESTAMP_HEADER`],
/// [`SIGNATURE_HEADER`], [`EVENT_ID_HEADER`]); a time limit on the whole request.
pub struct WebhookSender {
    client: reqwest::Client,
    url: String,
    secret: Vec<u8>,
}

/// The HTTP client every webhook sender shares: rustls, a time limit, no redirects (a redirect
/// would resend the body somewhere the administrator did not register).
pub fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("onsite-relay/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client builds (rustls)")
}

impl WebhookSender {
    pub fn new(client: reqwest::Client, url: &str, secret: &[u8]) -> WebhookSender {
        WebhookSender {
            client,
            url: url.to_owned(),
            secret: secret.to_vec(),
        }
    }
}

impl Sender for WebhookSender {
    fn send<'a>(&'a self, message: Message<'a>, now_ms: i64) -> BoxFuture<'a, Sent> {
        Box::pin(async move {
            let timestamp = now_ms.div_euclid(1000);
            let answer = self
                .client
                .post(&self.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(TIMESTAMP_HEADER, timestamp.to_string())
                .header(
                    SIGNATURE_HEADER,
                    signature(&self.secret, timestamp, message.body),
                )
                .header(EVENT_ID_HEADER, message.event_id)
                .body(message.body.to_owned())
                .send()
                .await;
            match answer {
                Ok(r) if r.status().is_success() => Sent::Delivered {
                    status: Some(r.status().as_u16()),
                },
                Ok(r) => Sent::Failed {
                    status: Some(r.status().as_u16()),
                    error: format!("the receiver answered {}", r.status()),
                },
                Err(e) => Sent::Failed {
                    status: None,
                    error: format!("no answer: {e}"),
                },
            }
        })
    }
}

/// Writes each message to the relay's log (target `onsite_relay::messages`) instead of sending
/// it: the demo's sender for customer messages. Always delivered.
pub struct LogSender;

impl Sender for LogSender {
    fn send<'a>(&'a self, message: Message<'a>, _now_ms: i64) -> BoxFuture<'a, Sent> {
        Box::pin(async move {
            tracing::info!(
                target: "onsite_relay::messages",
                event = message.event_id,
                body = message.body,
                "outbound message (log sender)"
            );
            Sent::Delivered { status: None }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_secret_timestamp_and_body() {
        let s = signature(b"secret", 1_700_000_000, "{\"a\":1}");
        assert!(
            s.starts_with("v1=") && s.len() == 3 + 64,
            "v1= and 64 hex digits: {s}"
        );
        assert!(
            verify(b"secret", 1_700_000_000, "{\"a\":1}", &s),
            "its own signature verifies"
        );
        assert!(
            !verify(b"other", 1_700_000_000, "{\"a\":1}", &s),
            "another secret fails"
        );
        assert!(
            !verify(b"secret", 1_700_000_001, "{\"a\":1}", &s),
            "another timestamp fails"
        );
        assert!(
            !verify(b"secret", 1_700_000_000, "{\"a\":2}", &s),
            "another body fails"
        );
        assert!(
            !verify(b"secret", 1_700_000_000, "{\"a\":1}", "v1=zz"),
            "garbage fails"
        );
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        // What docs/webhooks.md tells a receiver to compute: one HMAC over the joined text.
        let joined = "1700000000.{\"kind\":\"order.cancelled\"}";
        let mut mac = Hmac::<Sha256>::new_from_slice(b"whsec").unwrap();
        mac.update(joined.as_bytes());
        let want = format!("v1={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(
            signature(b"whsec", 1_700_000_000, "{\"kind\":\"order.cancelled\"}"),
            want,
            "the signed text is exactly '<timestamp>.<body>'"
        );
    }
}
