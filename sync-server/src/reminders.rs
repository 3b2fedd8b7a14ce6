//! Maintenance reminders to customers, sent by the relay: every so often it computes the due
//! reminders from its documents with the domain's rule (`onsite_domain::reminder::due`: the
//! centre's `ref:service` intervals, households, orders, visits) and enqueues each one into the
//! outbox under its stable key, so a reminder is enqueued — and sent — once however often this
//! runs. The messages go through the configured customer-message sender
//! (`crate::webhooks::message_sender`: the log in the demo, an SMS/WeChat gateway otherwise).

use std::sync::Arc;
use std::time::Duration;

use onsite_domain::household::Household;
use onsite_domain::order::Order;
use onsite_domain::reminder::{self, Reminder};
use onsite_domain::service::ServiceSettings;
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, HOUR, Millis, doc};
use onsite_wire::back_office::CustomerMessage;
use tokio::sync::Notify;

use crate::storage::{DocBytes, RelayStorage, StorageError};

/// China Standard Time: the centre's local calendar for due dates (as the verify page).
pub const UTC_OFFSET_MS: Millis = 8 * HOUR;

/// Where the reminders' inputs come from and where they go.
pub trait ReminderStore {
    /// Every stored document whose id starts with one of `prefixes` (`household:`, `order:`, …).
    fn documents(&self, prefixes: &[&str]) -> Result<Vec<DocBytes>, StorageError>;
    /// Enqueue a customer message for the message sender, unless one with `unique_key` was
    /// enqueued before; whether it is new.
    fn enqueue_message(
        &self,
        unique_key: &str,
        message: &CustomerMessage,
        now_ms: i64,
    ) -> Result<bool, StorageError>;
}

fn read_all<T: autosurgeon::Hydrate>(docs: &[DocBytes], kind: fn(&DocId) -> bool) -> Vec<T> {
    docs.iter()
        .filter(|d| kind(&d.doc))
        .filter_map(|d| doc::load(&d.bytes).ok().and_then(|a| doc::read(&a).ok()))
        .collect()
}

/// The reminders due at `now_ms` from what `store` holds; none without `ref:service`.
pub fn due(
    store: &dyn RelayStorage,
    now_ms: Millis,
) -> Result<Vec<(Reminder, Household)>, StorageError> {
    let docs = store.documents(&["household:", "order:", "visit:", "ref:service"])?;
    let Some(settings) = read_all::<ServiceSettings>(&docs, |d| *d == DocId::ServiceSettings).pop()
    else {
        return Ok(Vec::new());
    };
    let households: Vec<Household> = read_all(&docs, |d| matches!(d, DocId::Household(_)));
    let orders: Vec<Order> = read_all(&docs, |d| matches!(d, DocId::Order(_)));
    let visits: Vec<Visit> = read_all(&docs, |d| matches!(d, DocId::Visit { .. }));
    let due = reminder::due(
        &settings,
        &households,
        &orders,
        &visits,
        now_ms,
        UTC_OFFSET_MS,
    );
    Ok(due
        .into_iter()
        .filter_map(|r| {
            let h = households
                .iter()
                .find(|h| h.household_id == r.household_id)?;
            Some((r, h.clone()))
        })
        .collect())
}

/// The message a customer gets about `r`.
pub fn message(r: &Reminder, h: &Household) -> CustomerMessage {
    CustomerMessage {
        id: format!("rem_{}", r.key),
        kind: "maintenance.reminder".into(),
        household_id: h.household_id.clone(),
        name: h.name.clone(),
        phone: h.phones.first().cloned().unwrap_or_default(),
        appliance_id: r.appliance_id.clone(),
        category: r.category.clone(),
        task: r.task.clone(),
        due_date: r.due_date.clone(),
    }
}

/// Enqueue every reminder due at `now_ms` that was not enqueued before; how many are new.
pub fn enqueue_due(store: &dyn RelayStorage, now_ms: Millis) -> Result<usize, StorageError> {
    let mut new = 0;
    for (r, h) in due(store, now_ms)? {
        if store.enqueue_message(&format!("reminder:{}", r.key), &message(&r, &h), now_ms)? {
            new += 1;
        }
    }
    Ok(new)
}

/// Every `every`, enqueue the due reminders and wake the outbox.
pub fn spawn(
    storage: Arc<dyn RelayStorage>,
    every: Duration,
    clock: Arc<dyn Fn() -> i64 + Send + Sync>,
    wake: Arc<Notify>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let (s, now) = (storage.clone(), clock());
            match tokio::task::spawn_blocking(move || enqueue_due(s.as_ref(), now)).await {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => {
                    tracing::info!(n, "reminders enqueued");
                    wake.notify_one();
                }
                Ok(Err(e)) => tracing::error!(error = %e, "reminders: cannot compute"),
                Err(_) => tracing::error!("reminders: the computation failed"),
            }
        }
    })
}
