//! Push across instances: a committing transaction notifies [`CHANNEL`] with what it changed
//! (PostgreSQL delivers a notification only when, and after, its transaction commits); every
//! instance listens on a connection of its own and hands the commits of the others to its push
//! streams and its outbox.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use onsite_domain::DocId;
use onsite_sync::access::OrderFacts;
use onsite_sync::relay::Committed;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, broadcast};

use crate::storage::StorageError;

/// The notification channel.
pub(super) const CHANNEL: &str = "onsite_commits";

/// A notification's payload must stay under PostgreSQL's 8000 bytes; larger commits are told
/// in several notifications of the same transaction.
const PAYLOAD_BYTES: usize = 7000;

/// How often the listener looks up from waiting to see whether its storage is gone.
const STOP_CHECK: Duration = Duration::from_millis(500);

/// What one commit changed, as notified (all or part of it).
#[derive(Debug, Clone, Default)]
pub(super) struct Commit {
    /// The instance that committed.
    pub from: String,
    pub head: u64,
    pub docs: Vec<(DocId, Option<OrderFacts>)>,
    pub access_users: Vec<String>,
    /// The centres whose documents changed (in every part).
    pub centres: Vec<Option<String>>,
}

/// A commit as a notification's payload (JSON).
#[derive(Serialize, Deserialize)]
struct Payload {
    from: String,
    head: u64,
    docs: Vec<(String, Option<Facts>)>,
    access_users: Vec<String>,
    /// Missing from an instance of a version before centres: then every centre's dispatchers
    /// are told.
    #[serde(default = "every_centre")]
    centres: Vec<Option<String>>,
}

/// The centres of a commit that does not say: a company-wide change concerns every centre.
fn every_centre() -> Vec<Option<String>> {
    vec![None]
}

/// An order's facts in a payload.
#[derive(Serialize, Deserialize)]
struct Facts {
    order_no: String,
    assignee: Option<String>,
    assignees_ever: Vec<String>,
}

impl From<&OrderFacts> for Facts {
    fn from(f: &OrderFacts) -> Self {
        Facts {
            order_no: f.order_no.clone(),
            assignee: f.assignee.clone(),
            assignees_ever: f.assignees_ever.clone(),
        }
    }
}

impl From<Facts> for OrderFacts {
    fn from(f: Facts) -> Self {
        OrderFacts {
            order_no: f.order_no,
            assignee: f.assignee,
            assignees_ever: f.assignees_ever,
        }
    }
}

impl Commit {
    /// The payloads to notify, each under [`PAYLOAD_BYTES`].
    pub(super) fn payloads(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut part = self.part();
        part.access_users = self.access_users.clone();
        for d in &self.docs {
            part.docs.push(d.clone());
            if part.docs.len() > 1 && encode(&part).len() > PAYLOAD_BYTES {
                let last = part.docs.pop().expect("just pushed");
                out.push(encode(&part));
                part = self.part();
                part.docs.push(last);
            }
        }
        out.push(encode(&part));
        out
    }

    fn part(&self) -> Commit {
        Commit {
            from: self.from.clone(),
            head: self.head,
            centres: self.centres.clone(),
            ..Commit::default()
        }
    }
}

fn encode(c: &Commit) -> String {
    let payload = Payload {
        from: c.from.clone(),
        head: c.head,
        docs: c
            .docs
            .iter()
            .map(|(d, f)| (d.to_string(), f.as_ref().map(Facts::from)))
            .collect(),
        access_users: c.access_users.clone(),
        centres: c.centres.clone(),
    };
    serde_json::to_string(&payload).expect("a commit serialises")
}

fn decode(text: &str) -> Option<Commit> {
    let p: Payload = serde_json::from_str(text).ok()?;
    let docs = p
        .docs
        .into_iter()
        .map(|(d, f)| Some((d.parse().ok()?, f.map(OrderFacts::from))))
        .collect::<Option<_>>()?;
    Some(Commit {
        from: p.from,
        head: p.head,
        docs,
        access_users: p.access_users,
        centres: p.centres,
    })
}

/// A fresh name for this instance: 8 random bytes in hex.
pub(super) fn instance_name() -> String {
    let mut b = [0u8; 8];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// The listening connection's `application_name` (as `pg_stat_activity` shows it).
pub const LISTENER_NAME: &str = "onsite-pg-listen";

/// Where the listener passes on what it hears.
struct Hearing {
    instance: String,
    committed: Arc<Notify>,
    foreign: broadcast::Sender<Arc<Committed>>,
    /// The newest feed head this instance heard of (read when it started listening, then from
    /// each notification).
    known: u64,
}

impl Hearing {
    fn tell(&self, c: Committed) {
        self.committed.notify_one();
        // No receiver is fine: no push stream is open.
        let _ = self.foreign.send(Arc::new(c));
    }

    /// Listening again after the connection was lost: a notification sent meanwhile is not
    /// repeated, so when the head moved past what was heard, every stream is told to sync.
    fn listening_again(&mut self, head: u64) {
        if head > self.known {
            tracing::info!(
                head,
                heard = self.known,
                "push: commits made while not listening; every stream is told"
            );
            self.tell(Committed::everyone(head));
            self.known = head;
        }
    }
}

/// Start the listener thread: it connects with `config`, LISTENs on [`CHANNEL`], and for every
/// commit of another instance tells `foreign` and `committed`, until `stop` is set. A lost
/// connection is opened again, and what was committed while it was lost is told then.
pub(super) fn listen(
    config: postgres::Config,
    instance: String,
    committed: Arc<Notify>,
    foreign: broadcast::Sender<Arc<Committed>>,
    stop: Arc<AtomicBool>,
) -> Result<(), StorageError> {
    let (first, known) = subscribe(&config)?;
    let mut hearing = Hearing {
        instance,
        committed,
        foreign,
        known,
    };
    std::thread::Builder::new()
        .name("onsite-pg-listen".into())
        .spawn(move || {
            let mut client = Some(first);
            while !stop.load(Ordering::Relaxed) {
                let Some(c) = client.as_mut() else {
                    std::thread::sleep(Duration::from_secs(1));
                    client = subscribe(&config)
                        .inspect_err(|e| tracing::warn!(error = %e, "push: cannot listen again"))
                        .ok()
                        .map(|(c, head)| {
                            hearing.listening_again(head);
                            c
                        });
                    continue;
                };
                if let Err(e) = receive(c, &mut hearing) {
                    tracing::warn!(error = %e, "push: the listening connection failed");
                    client = None;
                }
            }
        })
        .map_err(StorageError::db)?;
    Ok(())
}

/// A listening connection and the feed head read after `LISTEN` (every later commit is
/// notified to it).
fn subscribe(config: &postgres::Config) -> Result<(Client, u64), StorageError> {
    let mut client = config
        .clone()
        .application_name(LISTENER_NAME)
        .connect(NoTls)?;
    client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
    let head: i64 = client.query_one("SELECT seq FROM feed_head", &[])?.get(0);
    Ok((client, head as u64))
}

/// Wait up to [`STOP_CHECK`] for notifications and pass on the other instances' commits.
fn receive(client: &mut Client, hearing: &mut Hearing) -> Result<(), postgres::Error> {
    let mut notifications = client.notifications();
    let mut arrived = notifications.timeout_iter(STOP_CHECK);
    while let Some(n) = arrived.next()? {
        let Some(c) = decode(n.payload()) else {
            tracing::warn!(
                payload = n.payload(),
                "push: a notification that does not read"
            );
            continue;
        };
        hearing.known = hearing.known.max(c.head);
        if c.from == hearing.instance {
            continue;
        }
        hearing.tell(Committed {
            head: c.head,
            docs: c.docs,
            access_users: c.access_users,
            centres: c.centres,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_commit_is_split_into_payloads_that_each_fit_and_read_back_whole() {
        let docs: Vec<(DocId, Option<OrderFacts>)> = (0..400)
            .map(|i| {
                let facts = OrderFacts {
                    order_no: format!("WO-20260101-AB-{i:04}"),
                    assignee: Some("tech.a".into()),
                    assignees_ever: vec!["tech.a".into(), "tech.b".into()],
                };
                (DocId::Order(format!("o-{i:05}")), Some(facts))
            })
            .collect();
        let commit = Commit {
            from: "a1".into(),
            head: 77,
            docs: docs.clone(),
            access_users: vec!["tech.a".into()],
            centres: vec![Some("main".into()), None],
        };
        let payloads = commit.payloads();
        assert!(payloads.len() > 1, "400 orders do not fit one notification");
        let mut back = Vec::new();
        for p in &payloads {
            assert!(p.len() <= PAYLOAD_BYTES, "a payload of {} bytes", p.len());
            let c = decode(p).expect("a payload reads back");
            assert_eq!((c.from.as_str(), c.head), ("a1", 77));
            assert_eq!(
                c.centres, commit.centres,
                "every part names the commit's centres, so each wakes the right dispatchers"
            );
            back.extend(c.docs);
        }
        assert_eq!(back, docs, "every document is told once, in order");
    }

    #[test]
    fn a_notification_without_centres_concerns_every_centre() {
        let old = r#"{"from":"a1","head":5,"docs":[["order:o-1",null]],"access_users":[]}"#;
        let c = decode(old).expect("an older instance's payload reads");
        assert_eq!(
            c.centres,
            vec![None],
            "an instance that does not say which centre wakes every centre's dispatchers"
        );
    }
}
