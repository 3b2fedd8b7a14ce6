//! Backups and restores (issue 14, `docs/deploy.md`): a backup taken while devices sync, restored
//! to a new relay that the devices resume against — on SQLite and on PostgreSQL.
//!
//! The hazard: a device that synced after the backup holds a feed cursor beyond the restored
//! relay's head, and what it uploaded after the backup is missing there. The restored database
//! has a new epoch (`onsite_relay::backup`); each device notices it, re-reads its feed from the
//! start and sends again every document it wrote in (`onsite_client`'s sync). After that every
//! device converges with the relay, every change any device made is on the restored relay, and
//! its change log is numbered 1..head without gaps or repeats.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use automerge::AutoCommit;
use common::{DAY, PASSWORD, seed, start_relay};
use onsite_client::{Relay, Session, SharedStore, SyncReport};
use onsite_domain::edit::VisitEdit;
use onsite_domain::order::Order;
use onsite_domain::visit::{CheckResult, Visit};
use onsite_domain::{DocId, HOUR};
use onsite_relay::{RelayStorage, RunningRelay, backup};
use onsite_store::Store;
use onsite_testkit::backend;

const TECHS: [&str; 2] = ["tech.a", "tech.b"];
/// Device time of the edits.
const NOW: i64 = DAY + 9 * HOUR;
/// Rounds of edits and syncs before the backup, while it is taken, and after it.
const BEFORE: u32 = 2;
const AFTER: u32 = 3;

/// A real device: the app's store and sync client.
struct Phone {
    user: String,
    store: SharedStore,
    _dir: tempfile::TempDir,
}

impl Phone {
    async fn sign_in(url: &str, user: &str) -> Phone {
        let dir = tempfile::tempdir().expect("a device folder");
        let store = Store::open_in(dir.path()).expect("open the device store");
        let store: SharedStore = Arc::new(Mutex::new(store));
        onsite_client::sign_in(&store, url, user, PASSWORD, &Default::default())
            .await
            .unwrap_or_else(|e| panic!("{user} signs in: {e}"));
        Phone {
            user: user.to_owned(),
            store,
            _dir: dir,
        }
    }

    async fn sync(&self, url: &str) -> SyncReport {
        let relay = Relay::for_device(&self.store, url).expect("a loopback relay URL");
        let session = Session::load(&self.store)
            .expect("read the session")
            .expect("signed in");
        onsite_client::sync_once(&self.store, &relay, &session, |_, _| {})
            .await
            .unwrap_or_else(|e| panic!("{} syncs with {url}: {e}", self.user))
    }

    fn with<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        f(&mut self.store.lock().expect("the store lock"))
    }

    fn cursor(&self) -> u64 {
        let bytes = self
            .with(|s| s.kv_get("client.cursor"))
            .expect("read the cursor");
        bytes
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
            .map_or(0, u64::from_be_bytes)
    }
}

/// Today's orders of `tech` in the seeded demo (even numbers are tech.a's, odd tech.b's).
fn todays(tech: &str) -> Vec<String> {
    let first = usize::from(tech != "tech.a");
    (first..onsite_testkit::relay::ORDERS as usize)
        .step_by(2)
        .map(|n| format!("o-{n:05}"))
        .collect()
}

/// What the devices wrote: every home check (id → visit), each order's notes in order, and the
/// photos (attachment digests).
#[derive(Default)]
struct Ledger {
    checks: BTreeMap<String, DocId>,
    notes: BTreeMap<String, Vec<String>>,
    photos: BTreeSet<String>,
}

impl Ledger {
    /// One edit per device: a home check on a technician's visit (and a photo on tech.a's
    /// device), a note on an order by the dispatcher.
    fn edit(&mut self, phones: &[Phone], round: u32) {
        for p in phones {
            if p.user == "disp" {
                let order = format!("o-{:05}", round % onsite_testkit::relay::ORDERS);
                let note = format!("note {round}");
                p.with(|s| {
                    s.update::<Order, _>(&DocId::Order(order.clone()), |o| {
                        o.customer.notes = note.clone();
                        Ok(())
                    })
                })
                .unwrap_or_else(|e| panic!("the dispatcher's note on {order}: {e}"));
                self.notes.entry(order).or_default().push(note);
                continue;
            }
            let order = &todays(&p.user)[round as usize % 3];
            let id = format!("{}-{round}", p.user);
            let edit = VisitEdit::AddHomeCheck {
                id: id.clone(),
                appliance: "空调 air conditioner".into(),
                result: CheckResult::Ok,
                note: String::new(),
            };
            p.with(|s| s.apply_visit_edit(order, &p.user, edit, NOW))
                .unwrap_or_else(|e| panic!("{}: home check {id}: {e}", p.user));
            self.checks.insert(id, DocId::visit(order, &p.user));
            if p.user == "tech.a" {
                let mut photo = b"\x89PNG\r\n\x1a\n".to_vec();
                photo.extend(format!("photo of round {round}").bytes());
                let sha = p.with(|s| s.put_attachment(&photo, "image/png"));
                self.photos.insert(sha.expect("the photo is stored"));
            }
        }
    }
}

async fn sync_all(phones: &[Phone], url: &str) -> Vec<SyncReport> {
    futures_util::future::join_all(phones.iter().map(|p| p.sync(url))).await
}

/// The seeded relay, the dispatcher's and both technicians' devices synced, each technician's
/// visits started.
async fn ready(dir: &Path) -> (RunningRelay, Vec<Phone>) {
    let relay = start_relay(dir).await;
    seed(&relay);
    let url = relay.url();
    let mut phones = vec![Phone::sign_in(&url, "disp").await];
    for t in TECHS {
        phones.push(Phone::sign_in(&url, t).await);
    }
    sync_all(&phones, &url).await;
    for p in phones.iter().filter(|p| p.user != "disp") {
        for o in todays(&p.user) {
            p.with(|s| s.start_visit(&o, &p.user))
                .unwrap_or_else(|e| panic!("{} starts a visit on {o}: {e}", p.user));
        }
    }
    sync_all(&phones, &url).await;
    (relay, phones)
}

/// Rounds of edits and syncs; in round `BEFORE` the backup is taken while the devices sync.
/// Returns the backup's feed head, when the backup says it (SQLite).
async fn run_with_backup(
    dir: &Path,
    relay: &RunningRelay,
    phones: &[Phone],
    ledger: &mut Ledger,
) -> Option<u64> {
    let url = relay.url();
    let mut backed_up = None;
    for round in 0..BEFORE + 1 + AFTER {
        ledger.edit(phones, round);
        if round != BEFORE {
            sync_all(phones, &url).await;
            continue;
        }
        let (db, file) = (backend::database(dir), dir.join("relay.backup"));
        let taking = tokio::task::spawn_blocking(move || backup::backup(&db, &file, 0));
        sync_all(phones, &url).await;
        let summary = taking.await.expect("the backup task").expect("the backup");
        backed_up = Some(summary.head);
    }
    // Work made offline after the last sync with the old relay.
    ledger.edit(phones, BEFORE + 1 + AFTER);
    backed_up.expect("a backup was taken")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_while_devices_sync_restores_to_a_relay_devices_resume_against() {
    let (old_dir, new_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (relay, phones) = ready(old_dir.path()).await;
    let mut ledger = Ledger::default();
    let backup_head = run_with_backup(old_dir.path(), &relay, &phones, &mut ledger).await;
    let old_head = relay.storage.head_seq().unwrap();
    let old_epoch = backup::epoch(relay.storage.as_ref(), 0).unwrap();
    relay.stop().await;

    let restored = backup::restore(
        &backend::database(new_dir.path()),
        Some(&old_dir.path().join("relay.backup")),
        0,
    )
    .expect("the backup restores into a new database");
    if let Some(head) = backup_head {
        assert_eq!(
            restored.head,
            Some(head),
            "the restored feed ends where the backup did"
        );
    }
    let restored_head = restored.head.expect("a restore reads its head");
    let relay = start_relay(new_dir.path()).await;
    let behind = phones.iter().filter(|p| p.cursor() > restored_head).count();
    assert!(
        old_head > restored_head && behind == phones.len(),
        "the test must meet the hazard: every device synced past the backup (head \
         {restored_head}, old relay {old_head}, devices {:?})",
        phones.iter().map(Phone::cursor).collect::<Vec<_>>()
    );
    resume(&relay, &phones, &mut ledger).await;
    let epoch = backup::epoch(relay.storage.as_ref(), 0).unwrap();
    assert_ne!(
        epoch, old_epoch,
        "a restored database has an epoch of its own"
    );
    check_converged(relay.storage.as_ref(), &phones);
    check_ledger(relay.storage.as_ref(), &ledger);
    check_change_log(new_dir.path(), relay.storage.head_seq().unwrap());
    relay.stop().await;
}

/// The devices resume against the restored relay. All but the last first (each notices the
/// restore on its first sync) and work on until the restored feed has passed the last device's
/// cursor: then nothing but the epoch tells that device that the numbers up to its cursor are
/// another history — without it, it would skip them and never send what it uploaded after the
/// backup. Then everyone syncs until a pass stores nothing.
async fn resume(relay: &RunningRelay, phones: &[Phone], ledger: &mut Ledger) {
    let url = relay.url();
    let (early, late) = phones.split_at(phones.len() - 1);
    let late = &late[0];
    for (p, report) in early.iter().zip(sync_all(early, &url).await) {
        assert!(
            report.resumed_after_restore,
            "{} must notice the restored relay on its first sync",
            p.user
        );
    }
    let mut round = 100;
    while relay.storage.head_seq().unwrap() < late.cursor() {
        assert!(
            round < 140,
            "the restored feed must pass {}'s cursor",
            late.user
        );
        ledger.edit(early, round);
        sync_all(early, &url).await;
        round += 1;
    }
    assert!(
        late.sync(&url).await.resumed_after_restore,
        "{} must notice the restore by the epoch alone: the feed is already past its cursor",
        late.user
    );
    ledger.edit(phones, round);
    for pass in 0.. {
        assert!(pass < 5, "the devices must become quiet within 5 passes");
        let before = relay.storage.head_seq().unwrap();
        for report in sync_all(phones, &url).await {
            assert!(!report.resumed_after_restore, "a restore is noticed once");
        }
        if pass > 0 && relay.storage.head_seq().unwrap() == before {
            break;
        }
    }
}

fn relay_doc(storage: &dyn RelayStorage, id: &DocId, user: &str) -> AutoCommit {
    let bytes = storage
        .doc(id)
        .unwrap()
        .unwrap_or_else(|| panic!("{user} holds {id}, which the restored relay lacks"));
    AutoCommit::load(&bytes).expect("the relay's document loads")
}

/// Every document a device holds is on the relay with every change of it, at the same heads;
/// nothing is left waiting on any device.
fn check_converged(storage: &dyn RelayStorage, phones: &[Phone]) {
    for p in phones {
        let (ids, pending, photos) = p.with(|s| {
            (
                s.list_doc_ids().unwrap(),
                s.pending_docs().unwrap(),
                s.pending_attachments().unwrap(),
            )
        });
        assert!(
            pending.is_empty(),
            "{} still waits to send {pending:?}",
            p.user
        );
        assert!(
            photos.is_empty(),
            "{} still waits to upload {photos:?}",
            p.user
        );
        for id in ids {
            let mut mine = p.with(|s| s.load_doc(&id)).unwrap();
            let mut theirs = relay_doc(storage, &id, &p.user);
            for c in mine.get_changes_meta(&[]) {
                assert!(
                    theirs.get_change_meta_by_hash(&c.hash).is_some(),
                    "a change of {id} on {}'s device is missing on the restored relay",
                    p.user
                );
            }
            assert_eq!(
                mine.get_heads(),
                theirs.get_heads(),
                "{}'s {id} must converge with the restored relay",
                p.user
            );
        }
    }
}

/// Every home check made is on the relay exactly once, each order's note is the last one
/// written, and every photo is there.
fn check_ledger(storage: &dyn RelayStorage, ledger: &Ledger) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for vid in ledger.checks.values().collect::<BTreeSet<_>>() {
        let v: Visit = onsite_domain::doc::read(&relay_doc(storage, vid, "a technician")).unwrap();
        for c in v.home_checks {
            *seen.entry(c.id).or_default() += 1;
        }
    }
    for id in ledger.checks.keys() {
        assert_eq!(
            seen.get(id),
            Some(&1),
            "home check {id} must be on the restored relay exactly once"
        );
    }
    for (order, notes) in &ledger.notes {
        let id = DocId::Order(order.clone());
        let o: Order = onsite_domain::doc::read(&relay_doc(storage, &id, "disp")).unwrap();
        assert_eq!(
            Some(&o.customer.notes),
            notes.last(),
            "the dispatcher's last note on {order} must win on the restored relay"
        );
    }
    for sha in &ledger.photos {
        assert!(
            storage.attachment(sha).unwrap().is_some(),
            "photo {sha} must be on the restored relay"
        );
    }
}

/// The change log is numbered 1..head, each number once, each change (document, hash) once.
fn check_change_log(dir: &Path, head: u64) {
    let head = head as i64;
    let q = |sql: &str| backend::sql(dir, sql);
    assert_eq!(q("SELECT MIN(seq) FROM changes"), 1, "the log starts at 1");
    assert_eq!(
        q("SELECT MAX(seq) FROM changes"),
        head,
        "the log ends at the head"
    );
    assert_eq!(
        q("SELECT COUNT(*) FROM changes"),
        head,
        "one change per number: no gaps, no repeats"
    );
    assert_eq!(
        q("SELECT COUNT(*) FROM (SELECT doc_id, hash FROM changes GROUP BY doc_id, hash) d"),
        head,
        "no change stored twice"
    );
}

onsite_testkit::on_postgres!(
    a_backup_taken_while_devices_sync_restores_to_a_relay_devices_resume_against
);
