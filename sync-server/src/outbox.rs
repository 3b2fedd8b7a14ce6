//! The durable outbox: events are written into the database in the transaction that commits the
//! documents they come from (one delivery per registered webhook), and a background task sends
//! them through a [`Sender`].
//!
//! - **A log row per attempt**, written *before* the request leaves (`in_flight`) and finished
//!   after (`delivered`, `failed`); an attempt a crash cut short is marked `interrupted` at the
//!   next start and the event is sent again. So two sends are never recorded as one, and
//!   delivery is at least once: the receiver drops an event id it has already handled.
//! - **In order per order**: a delivery waits while an earlier event of the same order (its
//!   ordering key) to the same destination is still pending.
//! - **Retries** with exponential backoff and jitter ([`Policy`]) until the event is
//!   `give_up_after_ms` old (24 h by default); then the delivery is `gave_up` and the next event
//!   of that order goes.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::{Notify, Semaphore};

use crate::sender::{Message, Sender, Sent, WebhookSender};
use crate::storage::{RelayStorage, StorageError};

/// Where a delivery goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A registered webhook (`webhook:<id>` in the database).
    Webhook {
        id: i64,
        url: String,
        secret: Vec<u8>,
    },
    /// The configured customer-message sender (`messages`).
    Messages,
}

impl Destination {
    /// The destination a delivery row names (`webhook:<id>` with the webhook's URL and secret,
    /// or `messages`), as either backend stores it.
    pub fn from_stored(
        text: &str,
        url: Option<String>,
        secret: Option<Vec<u8>>,
    ) -> Result<Destination, StorageError> {
        if text == "messages" {
            return Ok(Destination::Messages);
        }
        let id = text
            .strip_prefix("webhook:")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| StorageError::Corrupt(format!("delivery destination '{text}'")))?;
        match (url, secret) {
            (Some(url), Some(secret)) => Ok(Destination::Webhook { id, url, secret }),
            _ => Err(StorageError::Corrupt(format!(
                "webhook {id} of a pending delivery"
            ))),
        }
    }

    /// How a delivery row names this destination.
    pub fn stored_text(&self) -> String {
        match self {
            Destination::Webhook { id, .. } => format!("webhook:{id}"),
            Destination::Messages => "messages".into(),
        }
    }
}

/// A registered webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub created_at_ms: i64,
    pub removed_at_ms: Option<i64>,
}

/// A delivery claimed for one attempt (its log row is written, `in_flight`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// The event's row.
    pub event: i64,
    pub event_id: String,
    pub body: String,
    pub event_created_at_ms: i64,
    pub destination: Destination,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The attempt's log row.
    pub attempt_row: i64,
}

/// What to do with a delivery after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Delivered,
    RetryAt(i64),
    GiveUp,
}

/// One attempt in the delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub event_id: String,
    pub kind: String,
    pub ordering_key: String,
    pub destination: String,
    pub attempt: u32,
    pub started_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    /// `in_flight`, `delivered`, `failed` or `interrupted`.
    pub outcome: String,
    pub http_status: Option<u16>,
    pub error: Option<String>,
}

/// Where webhooks, events, deliveries and attempts are kept.
pub trait OutboxStore {
    fn add_webhook(&self, url: &str, secret: &[u8], now_ms: i64) -> Result<i64, StorageError>;
    /// Every webhook, removed ones included, by id.
    fn webhooks(&self) -> Result<Vec<Webhook>, StorageError>;
    /// Remove a webhook and cancel its pending deliveries; false when unknown or already removed.
    fn remove_webhook(&self, id: i64, now_ms: i64) -> Result<bool, StorageError>;
    /// After a crash: attempts still `in_flight` become `interrupted` and their deliveries are
    /// due at once. Returns how many.
    fn recover_in_flight(&self, now_ms: i64) -> Result<usize, StorageError>;
    /// Claim up to `limit` due deliveries — for each destination and ordering key only the
    /// earliest pending one — and log a started attempt for each, in one transaction.
    fn claim_due(&self, now_ms: i64, limit: usize) -> Result<Vec<Due>, StorageError>;
    /// Finish the attempt of `due` at `now_ms` as `sent` says, and the delivery as `next` says.
    fn finish_attempt(
        &self,
        due: &Due,
        sent: &Sent,
        next: &Next,
        now_ms: i64,
    ) -> Result<(), StorageError>;
    /// When the next pending delivery that is not in flight falls due.
    fn next_due_ms(&self) -> Result<Option<i64>, StorageError>;
    /// The log, oldest first: every attempt, or those to one webhook.
    fn delivery_log(&self, webhook: Option<i64>) -> Result<Vec<Attempt>, StorageError>;
}

/// Retry policy: exponential backoff with jitter, capped, until the event is too old.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub base_ms: u64,
    pub max_ms: u64,
    pub give_up_after_ms: u64,
    pub timeout: Duration,
}

impl Policy {
    /// The wait after the `attempt`-th failure: `base · 2^(attempt-1)`, capped at `max`, times a
    /// jitter `0.5 + jitter/2` (`jitter` in [0, 1)), so receivers that came back are not hit by
    /// every relay at once.
    pub fn delay_ms(&self, attempt: u32, jitter: f64) -> u64 {
        let exp = self
            .base_ms
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(40))
            .min(self.max_ms);
        (exp as f64 * (0.5 + jitter.clamp(0.0, 1.0) / 2.0)) as u64
    }

    /// What follows attempt `attempt` of an event created at `created_at_ms`, at `now_ms`.
    pub fn next(
        &self,
        sent: &Sent,
        attempt: u32,
        created_at_ms: i64,
        now_ms: i64,
        jitter: f64,
    ) -> Next {
        if matches!(sent, Sent::Delivered { .. }) {
            return Next::Delivered;
        }
        let at = now_ms + self.delay_ms(attempt, jitter) as i64;
        if at - created_at_ms >= self.give_up_after_ms as i64 {
            Next::GiveUp
        } else {
            Next::RetryAt(at)
        }
    }
}

/// What the delivery task needs.
#[derive(Clone)]
pub struct Outbox {
    pub storage: Arc<dyn RelayStorage>,
    /// The customer-message sender ([`Destination::Messages`]).
    pub messages: Arc<dyn Sender>,
    pub client: reqwest::Client,
    pub policy: Policy,
    /// Now, milliseconds since the epoch (a parameter so tests choose the time).
    pub clock: Arc<dyn Fn() -> i64 + Send + Sync>,
}

/// Most deliveries in flight at once.
const IN_FLIGHT: usize = 8;
/// Longest sleep when nothing is due: events committed by another process (the command line)
/// are picked up within this.
const IDLE_POLL: Duration = Duration::from_secs(2);

impl Outbox {
    /// Send one claimed delivery and record how it went.
    pub async fn deliver(&self, due: Due) -> Result<Next, StorageError> {
        let message = Message {
            event_id: &due.event_id,
            body: &due.body,
        };
        let sent = match &due.destination {
            Destination::Webhook { url, secret, .. } => {
                WebhookSender::new(self.client.clone(), url, secret)
                    .send(message, (self.clock)())
                    .await
            }
            Destination::Messages => self.messages.send(message, (self.clock)()).await,
        };
        let now = (self.clock)();
        let jitter = rand::rng().random::<f64>();
        let next = self
            .policy
            .next(&sent, due.attempt, due.event_created_at_ms, now, jitter);
        let storage = self.storage.clone();
        let (d, s, n) = (due.clone(), sent.clone(), next.clone());
        tokio::task::spawn_blocking(move || storage.finish_attempt(&d, &s, &n, now))
            .await
            .map_err(|_| StorageError::Poisoned)??;
        match &sent {
            Sent::Delivered { .. } => {
                tracing::info!(event = %due.event_id, attempt = due.attempt, "delivered")
            }
            Sent::Failed { error, .. } => {
                tracing::warn!(event = %due.event_id, attempt = due.attempt, error, next = ?next, "delivery failed")
            }
        }
        Ok(next)
    }

    /// Claim what is due now, up to `limit`.
    pub async fn claim(&self, limit: usize) -> Result<Vec<Due>, StorageError> {
        let storage = self.storage.clone();
        let now = (self.clock)();
        tokio::task::spawn_blocking(move || storage.claim_due(now, limit))
            .await
            .map_err(|_| StorageError::Poisoned)?
    }

    /// Run until the process ends: recover what a crash left in flight, then deliver what falls
    /// due, at most [`IN_FLIGHT`] at once, waking on `wake` (a commit) or when the next retry is
    /// due.
    pub fn spawn(self, wake: Arc<Notify>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            match self.storage.recover_in_flight((self.clock)()) {
                Ok(0) => {}
                Ok(n) => tracing::warn!(n, "outbox: resending deliveries a stop interrupted"),
                Err(e) => {
                    tracing::error!(error = %e, "outbox: cannot recover in-flight deliveries")
                }
            }
            let turns = Arc::new(Semaphore::new(IN_FLIGHT));
            // Owned by this task: aborting it (a stop) aborts the deliveries in flight too.
            let mut running = tokio::task::JoinSet::new();
            loop {
                while running.try_join_next().is_some() {}
                let free = turns.available_permits();
                let claimed = if free > 0 {
                    self.claim(free).await
                } else {
                    Ok(Vec::new())
                };
                let claimed = claimed.unwrap_or_else(|e| {
                    tracing::error!(error = %e, "outbox: cannot read due deliveries");
                    Vec::new()
                });
                if !claimed.is_empty() {
                    for due in claimed {
                        let turn = turns.clone().acquire_owned().await.expect("never closed");
                        let (me, wake) = (self.clone(), wake.clone());
                        running.spawn(async move {
                            if let Err(e) = me.deliver(due).await {
                                tracing::error!(error = %e, "outbox: cannot record an attempt");
                            }
                            drop(turn);
                            wake.notify_one();
                        });
                    }
                    continue;
                }
                let sleep = self.until_next_due().await;
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(sleep) => {}
                }
            }
        })
    }

    async fn until_next_due(&self) -> Duration {
        let storage = self.storage.clone();
        let next = tokio::task::spawn_blocking(move || storage.next_due_ms())
            .await
            .ok()
            .and_then(Result::ok)
            .flatten();
        match next {
            Some(at) => Duration::from_millis((at - (self.clock)()).max(1) as u64).min(IDLE_POLL),
            None => IDLE_POLL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy {
        base_ms: 1_000,
        max_ms: 60_000,
        give_up_after_ms: 24 * 3_600_000,
        timeout: Duration::from_secs(10),
    };

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        assert_eq!(
            POLICY.delay_ms(1, 1.0),
            1_000,
            "first retry after base (no jitter taken)"
        );
        assert_eq!(POLICY.delay_ms(1, 0.0), 500, "jitter takes at most half");
        assert_eq!(POLICY.delay_ms(3, 1.0), 4_000, "doubles per failure");
        assert_eq!(POLICY.delay_ms(30, 1.0), 60_000, "capped at max");
        assert_eq!(POLICY.delay_ms(u32::MAX, 1.0), 60_000, "no overflow");
    }

    #[test]
    fn a_failure_retries_until_the_event_is_a_day_old_then_gives_up() {
        let failed = Sent::Failed {
            status: Some(500),
            error: "500".into(),
        };
        assert_eq!(
            POLICY.next(&failed, 1, 0, 10, 1.0),
            Next::RetryAt(1_010),
            "retried after the backoff"
        );
        let day = 24 * 3_600_000;
        assert_eq!(
            POLICY.next(&failed, 40, 0, day - 30_000, 1.0),
            Next::GiveUp,
            "a retry that would fall after 24 h is not made"
        );
        assert_eq!(
            POLICY.next(&Sent::Delivered { status: Some(200) }, 40, 0, 2 * day, 0.0),
            Next::Delivered,
            "a delivery is a delivery whenever it happens"
        );
    }
}
