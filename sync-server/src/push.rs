//! Who is told of a commit: every open push stream whose feed it advanced, and no other. A
//! commit reaches the streams of admins (they read everything), of the dispatchers of the centres
//! whose documents it changed (every centre's for a company-wide document) and of the
//! technicians among its readers ([`technician_readers`] by the governing order's facts after
//! the commit) or whose access it changed. Routing by user instead of waking every stream for
//! every commit: with a thousand technicians online each commit woke a thousand streams that
//! then found it was not theirs (docs/benchmarks.md, the relay under load).

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use onsite_sync::access::{Principal, Readers, technician_readers};
use onsite_sync::relay::Committed;
use onsite_wire::Role;
use tokio::sync::broadcast;

/// Commits a slow stream may fall behind by before it is told to catch up from the head.
const BACKLOG: usize = 64;

/// Channels by key (a technician's user id, a centre's id); a channel nobody listens to any
/// more is dropped at the next commit.
type Channels = Mutex<HashMap<String, broadcast::Sender<u64>>>;

/// The head sequence of every commit that concerns a stream, by who listens.
pub struct PushHub {
    admins: broadcast::Sender<u64>,
    centres: Channels,
    technicians: Channels,
}

impl Default for PushHub {
    fn default() -> Self {
        PushHub {
            admins: broadcast::channel(BACKLOG).0,
            centres: Mutex::new(HashMap::new()),
            technicians: Mutex::new(HashMap::new()),
        }
    }
}

impl PushHub {
    /// The commits that concern `who`, from now on.
    pub fn subscribe(&self, who: &Principal) -> broadcast::Receiver<u64> {
        match who.role {
            Role::Admin => self.admins.subscribe(),
            Role::Dispatcher => subscribe(&self.centres, &who.centre),
            Role::Technician => subscribe(&self.technicians, &who.user_id),
        }
    }

    /// Tell every stream `c` concerns (no stream listening is fine).
    pub fn send(&self, c: &Committed) {
        let _ = self.admins.send(c.head);
        let mut centres = lock(&self.centres);
        centres.retain(|_, tx| tx.receiver_count() > 0);
        for (id, tx) in centres.iter() {
            if c.centres
                .iter()
                .any(|x| x.as_deref().is_none_or(|x| x == id))
            {
                let _ = tx.send(c.head);
            }
        }
        drop(centres);
        let mut technicians = lock(&self.technicians);
        technicians.retain(|_, tx| tx.receiver_count() > 0);
        match concerned(c) {
            Readers::AllTechnicians => {
                for tx in technicians.values() {
                    let _ = tx.send(c.head);
                }
            }
            Readers::Technicians(ids) => {
                for id in ids {
                    if let Some(tx) = technicians.get(&id) {
                        let _ = tx.send(c.head);
                    }
                }
            }
        }
    }
}

fn lock(channels: &Channels) -> std::sync::MutexGuard<'_, HashMap<String, broadcast::Sender<u64>>> {
    channels.lock().unwrap_or_else(|p| p.into_inner())
}

fn subscribe(channels: &Channels, key: &str) -> broadcast::Receiver<u64> {
    lock(channels)
        .entry(key.to_owned())
        .or_insert_with(|| broadcast::channel(BACKLOG).0)
        .subscribe()
}

/// The technicians whose feed `c` advanced: the readers of its documents and the users whose
/// access it changed.
fn concerned(c: &Committed) -> Readers {
    let mut ids: BTreeSet<String> = c.access_users.iter().cloned().collect();
    for (doc, facts) in &c.docs {
        match technician_readers(doc, facts.as_ref()) {
            Readers::AllTechnicians => return Readers::AllTechnicians,
            Readers::Technicians(ts) => ids.extend(ts),
        }
    }
    Readers::Technicians(ids.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use onsite_domain::DocId;
    use onsite_sync::access::OrderFacts;

    fn who(id: &str, role: Role) -> Principal {
        Principal {
            user_id: id.into(),
            role,
            centre: "main".into(),
        }
    }

    fn visit_commit(head: u64, order_of: &str) -> Committed {
        Committed {
            head,
            docs: vec![(
                DocId::visit("o-1", order_of),
                Some(OrderFacts {
                    order_no: "WO-1".into(),
                    assignee: Some(order_of.into()),
                    assignees_ever: vec![order_of.into()],
                }),
            )],
            access_users: vec![],
            centres: vec![Some("main".into())],
        }
    }

    #[test]
    fn commits_an_instance_did_not_hear_one_by_one_reach_every_stream() {
        let hub = PushHub::default();
        let other_centre = Principal {
            centre: "sh".into(),
            ..who("disp.sh", Role::Dispatcher)
        };
        let mut streams = [
            hub.subscribe(&who("tech.a", Role::Technician)),
            hub.subscribe(&who("tech.b", Role::Technician)),
            hub.subscribe(&who("disp", Role::Dispatcher)),
            hub.subscribe(&other_centre),
            hub.subscribe(&who("admin", Role::Admin)),
        ];
        hub.send(&Committed::everyone(9));
        for (i, s) in streams.iter_mut().enumerate() {
            assert_eq!(
                s.try_recv().ok(),
                Some(9),
                "stream {i} is told to sync: a missed commit may have been for anyone"
            );
        }
    }

    #[test]
    fn a_commit_reaches_staff_and_its_readers_only() {
        let hub = PushHub::default();
        let mut a = hub.subscribe(&who("tech.a", Role::Technician));
        let mut b = hub.subscribe(&who("tech.b", Role::Technician));
        let mut d = hub.subscribe(&who("disp", Role::Dispatcher));
        hub.send(&visit_commit(7, "tech.a"));
        assert_eq!(a.try_recv().ok(), Some(7), "tech.a reads its own visit");
        assert!(
            b.try_recv().is_err(),
            "tech.b may not read tech.a's visit: no wake-up"
        );
        assert_eq!(
            d.try_recv().ok(),
            Some(7),
            "the centre's dispatchers read its visits"
        );
    }

    #[test]
    fn a_centre_s_commit_wakes_its_dispatchers_and_admins_not_another_centre_s() {
        let hub = PushHub::default();
        let mut main = hub.subscribe(&who("disp", Role::Dispatcher));
        let sh = |role| Principal {
            centre: "sh".into(),
            ..who("x", role)
        };
        let mut other = hub.subscribe(&sh(Role::Dispatcher));
        let mut admin = hub.subscribe(&sh(Role::Admin));
        hub.send(&visit_commit(9, "tech.a"));
        assert_eq!(main.try_recv().ok(), Some(9), "main's own visit");
        assert!(
            other.try_recv().is_err(),
            "centre sh's dispatchers may not read main's documents: no wake-up"
        );
        assert_eq!(admin.try_recv().ok(), Some(9), "admins read every centre");
        hub.send(&Committed {
            head: 10,
            docs: vec![(DocId::FeeSchedule, None)],
            access_users: vec![],
            centres: vec![None],
        });
        assert_eq!(main.try_recv().ok(), Some(10), "company-wide: every centre");
        assert_eq!(
            other.try_recv().ok(),
            Some(10),
            "company-wide: every centre"
        );
    }

    #[test]
    fn reference_changes_and_access_changes_reach_the_technicians_concerned() {
        let hub = PushHub::default();
        let mut a = hub.subscribe(&who("tech.a", Role::Technician));
        let mut b = hub.subscribe(&who("tech.b", Role::Technician));
        hub.send(&Committed {
            head: 3,
            docs: vec![(DocId::Templates, None)],
            access_users: vec![],
            centres: vec![None],
        });
        assert_eq!(
            a.try_recv().ok(),
            Some(3),
            "every technician reads the templates"
        );
        assert_eq!(
            b.try_recv().ok(),
            Some(3),
            "every technician reads the templates"
        );
        hub.send(&Committed {
            head: 4,
            docs: vec![(DocId::Household("h-1".into()), None)],
            access_users: vec!["tech.b".into()],
            centres: vec![Some("main".into())],
        });
        assert!(a.try_recv().is_err(), "a household is not tech.a's to read");
        assert_eq!(b.try_recv().ok(), Some(4), "tech.b's access changed");
    }
}
