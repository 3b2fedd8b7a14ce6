//! Maintenance reminders to customers, sent by the relay: every so often it computes the due
//! reminders with the domain's rule (`onsite_domain::reminder`: the centre's `ref:service`
//! intervals, households, orders, visits) and enqueues each one into the outbox under its stable
//! key, so a reminder is enqueued — and sent — once however often this runs. The messages go
//! through the configured customer-message sender (`crate::webhooks::message_sender`: the log in
//! the demo, an SMS/WeChat gateway otherwise).
//!
//! It looks only at the households that need it, kept in the storage's reminder checks (one row
//! per household): a commit that writes a household, or an order or visit of one, marks it to be
//! looked at (writing `ref:service` marks them all); looking at one enqueues what is due and
//! leaves the household to be looked at again when its earliest open reminder comes due, or never
//! while it has none. Time only decides which open reminders are due
//! (`onsite_domain::reminder::open`), so between two marks nothing else can change the answer. A
//! tick reads the marked and the newly due households, not the whole history: at 1,000,000 jobs
//! the whole-history computation held 6.3 GiB and a core every hour.

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

/// Households looked at per read: bounds what one step holds in memory.
pub const CHECK_BATCH: usize = 256;

/// A household to look at, with the generation of its mark: a commit that marks it again while it
/// is being looked at changes the generation, and the look's outcome is then not recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub household_id: String,
    pub generation: i64,
}

/// Where the reminders' inputs come from and where they go.
pub trait ReminderStore {
    /// The households to look at by `now_ms` (marked by a commit, or with an open reminder due by
    /// then) whose id sorts after `after`, in id order, at most `limit`.
    fn reminder_checks(
        &self,
        now_ms: i64,
        after: &str,
        limit: usize,
    ) -> Result<Vec<Check>, StorageError>;
    /// The household's stored document, its orders and their visits (`ref:` documents not
    /// included).
    fn household_docs(&self, household_id: &str) -> Result<Vec<DocBytes>, StorageError>;
    /// Store what looking at a batch of households decided, in one transaction: every message
    /// enqueued for the message sender unless one with its key was enqueued before, and every
    /// check to be looked at again at its `next_ms` (`None`: when a commit marks it) unless a
    /// commit marked it since (its generation moved on). Whether each message is new, in order.
    fn record_looks(&self, looks: &[Outcome], now_ms: i64) -> Result<Vec<bool>, StorageError>;
}

/// What looking at one household decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub check: Check,
    /// When to look again (`None`: when a commit marks it).
    pub next_ms: Option<i64>,
    /// The messages due, each with its unique key.
    pub messages: Vec<(String, CustomerMessage)>,
}

fn read_all<T: autosurgeon::Hydrate>(docs: &[DocBytes], kind: fn(&DocId) -> bool) -> Vec<T> {
    docs.iter()
        .filter(|d| kind(&d.doc))
        .filter_map(|d| doc::load(&d.bytes).ok().and_then(|a| doc::read(&a).ok()))
        .collect()
}

/// What one household's documents say: its open reminders.
pub struct Looked {
    pub household: Household,
    /// Earliest due first ([`reminder::open`]).
    pub open: Vec<Reminder>,
}

/// The open reminders of `household_id` from what `store` holds; `None` when the household is
/// not stored (or cannot be read).
pub fn look(
    store: &dyn RelayStorage,
    settings: &ServiceSettings,
    household_id: &str,
) -> Result<Option<Looked>, StorageError> {
    let docs = store.household_docs(household_id)?;
    let Some(household) = read_all::<Household>(&docs, |d| matches!(d, DocId::Household(_))).pop()
    else {
        return Ok(None);
    };
    let orders: Vec<Order> = read_all(&docs, |d| matches!(d, DocId::Order(_)));
    let visits: Vec<Visit> = read_all(&docs, |d| matches!(d, DocId::Visit { .. }));
    let open = reminder::open(
        settings,
        std::slice::from_ref(&household),
        &orders,
        &visits,
        UTC_OFFSET_MS,
    );
    Ok(Some(Looked { household, open }))
}

/// The centre's service settings, if stored.
pub fn settings(store: &dyn RelayStorage) -> Result<Option<ServiceSettings>, StorageError> {
    Ok(store
        .doc(&DocId::ServiceSettings)?
        .and_then(|bytes| doc::load(&bytes).ok())
        .and_then(|a| doc::read(&a).ok()))
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

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pass {
    /// Households looked at.
    pub checked: usize,
    /// Reminders enqueued by this pass (not enqueued before), in the order they were.
    pub enqueued: Vec<Reminder>,
}

/// Look at every household that needs it at `now_ms` ([`ReminderStore::reminder_checks`]),
/// [`CHECK_BATCH`] at a time: enqueue its due reminders that were not enqueued before, and leave
/// it to be looked at when the earliest of the others comes due — a batch's outcomes written in
/// one transaction. Without `ref:service` nothing is due, and the marks stay for when it is
/// stored.
pub fn enqueue_due(store: &dyn RelayStorage, now_ms: Millis) -> Result<Pass, StorageError> {
    let mut pass = Pass::default();
    let Some(settings) = settings(store)? else {
        return Ok(pass);
    };
    let mut after = String::new();
    loop {
        let batch = store.reminder_checks(now_ms, &after, CHECK_BATCH)?;
        let Some(last) = batch.last() else { break };
        after = last.household_id.clone();
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut due = Vec::new();
        for check in batch {
            let (next_ms, messages) = match look(store, &settings, &check.household_id)? {
                Some(looked) => decide(&looked, now_ms, &mut due),
                None => (None, Vec::new()),
            };
            outcomes.push(Outcome {
                check,
                next_ms,
                messages,
            });
        }
        let new = store.record_looks(&outcomes, now_ms)?;
        pass.checked += outcomes.len();
        pass.enqueued
            .extend(due.into_iter().zip(new).filter(|(_, n)| *n).map(|(r, _)| r));
    }
    Ok(pass)
}

/// `looked`'s reminders due at `now_ms` as messages (each also pushed to `due`), and when the
/// next one comes due.
fn decide(
    looked: &Looked,
    now_ms: Millis,
    due: &mut Vec<Reminder>,
) -> (Option<Millis>, Vec<(String, CustomerMessage)>) {
    let (now, later): (Vec<&Reminder>, Vec<&Reminder>) =
        looked.open.iter().partition(|r| r.due_at_ms <= now_ms);
    let messages = now
        .into_iter()
        .map(|r| {
            due.push(r.clone());
            (format!("reminder:{}", r.key), message(r, &looked.household))
        })
        .collect();
    (later.iter().map(|r| r.due_at_ms).min(), messages)
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
                Ok(Ok(pass)) if pass.enqueued.is_empty() => {
                    tracing::debug!(checked = pass.checked, "reminders: none due");
                }
                Ok(Ok(pass)) => {
                    let n = pass.enqueued.len();
                    tracing::info!(n, checked = pass.checked, "reminders enqueued");
                    wake.notify_one();
                }
                Ok(Err(e)) => tracing::error!(error = %e, "reminders: cannot compute"),
                Err(_) => tracing::error!("reminders: the computation failed"),
            }
        }
    })
}
