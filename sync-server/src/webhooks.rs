//! Webhook registration (`onsite-relay webhook add|list|remove|deliveries`): a URL and a shared
//! secret, checked before anything is stored. What is sent and how: `crate::outbox`,
//! `crate::sender`, `docs/webhooks.md`.

use std::sync::Arc;

use crate::config::{MessageSender, OutboxSettings};
use crate::outbox::OutboxStore;
use crate::sender::{LogSender, Sender, WebhookSender, http_client};
use crate::storage::StorageError;

/// Shortest accepted secret, bytes.
pub const MIN_SECRET_BYTES: usize = 16;

/// Why a webhook (or the message gateway) was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("'{0}' is not an http:// or https:// URL with a host")]
    Url(String),
    #[error("the secret must have at least {MIN_SECRET_BYTES} bytes (e.g. `openssl rand -hex 32`)")]
    ShortSecret,
    #[error("messages = \"webhook\" needs messages_url and messages_secret_file in [outbox]")]
    NoGateway,
    #[error("cannot read the secret file: {0}")]
    SecretFile(std::io::Error),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// `url` when it is an absolute http(s) URL with a host.
pub fn check_url(url: &str) -> Result<reqwest::Url, WebhookError> {
    reqwest::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| WebhookError::Url(url.to_owned()))
}

/// Register a webhook; its id. Events committed from now on are delivered to it.
pub fn add(
    store: &dyn OutboxStore,
    url: &str,
    secret: &str,
    now_ms: i64,
) -> Result<i64, WebhookError> {
    let url = check_url(url)?;
    if secret.len() < MIN_SECRET_BYTES {
        return Err(WebhookError::ShortSecret);
    }
    Ok(store.add_webhook(url.as_str(), secret.as_bytes(), now_ms)?)
}

/// The customer-message sender the settings name.
pub fn message_sender(settings: &OutboxSettings) -> Result<Arc<dyn Sender>, WebhookError> {
    match settings.messages {
        MessageSender::Log => Ok(Arc::new(LogSender)),
        MessageSender::Webhook => {
            let (Some(url), Some(file)) = (&settings.messages_url, &settings.messages_secret_file)
            else {
                return Err(WebhookError::NoGateway);
            };
            let url = check_url(url)?;
            let text = std::fs::read_to_string(file).map_err(WebhookError::SecretFile)?;
            let secret = text.lines().next().unwrap_or_default();
            if secret.len() < MIN_SECRET_BYTES {
                return Err(WebhookError::ShortSecret);
            }
            let client = http_client(settings.policy().timeout);
            Ok(Arc::new(WebhookSender::new(
                client,
                url.as_str(),
                secret.as_bytes(),
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_with_a_host_are_accepted() {
        for ok in ["http://127.0.0.1:9/hook", "https://erp.example.com/onsite"] {
            assert!(check_url(ok).is_ok(), "{ok} is a webhook URL");
        }
        for bad in [
            "ftp://x/y",
            "erp.example.com",
            "http://",
            "file:///etc/passwd",
            "",
        ] {
            assert!(check_url(bad).is_err(), "{bad} is refused");
        }
    }

    #[test]
    fn a_gateway_sender_needs_its_url_and_secret_file() {
        let s = OutboxSettings {
            messages: MessageSender::Webhook,
            ..OutboxSettings::default()
        };
        assert!(
            matches!(message_sender(&s), Err(WebhookError::NoGateway)),
            "no URL, no gateway"
        );
        assert!(
            message_sender(&OutboxSettings::default()).is_ok(),
            "the log sender needs nothing"
        );
    }
}
