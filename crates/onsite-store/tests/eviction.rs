//! A partial replica's eviction: jobs settled and quiet since before the window's cutoff leave
//! the device whole (order and visits in one transaction); open jobs, recent ones, jobs fetched
//! and held, and any job with a change not yet confirmed by the relay stay.

mod common;

use common::*;
use onsite_domain::order::{DispatchStatus, Order};
use onsite_domain::retention;
use onsite_domain::sla::SlaPolicy;
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, HOUR, Millis, seed, templates};
use onsite_store::{Evicted, Store};

const NOW: Millis = DAY;
const OLD: Millis = DAY - 400 * 24 * HOUR;

/// Order `n` created at `at`, cancelled two hours later when `cancelled`, with tech.a's visit
/// started; everything marked as confirmed by the relay unless `synced` is false.
fn job(store: &mut Store, n: u32, at: Millis, cancelled: bool, synced: bool) -> Vec<DocId> {
    let mut o = Order::create(seed::order(n, at), &SlaPolicy::default(), at).expect("valid order");
    if cancelled {
        o.status = DispatchStatus::Cancelled;
        o.status_changed_at_ms = at + 2 * HOUR;
    }
    let oid = DocId::Order(o.order_id.clone());
    store.create(&oid, &o).expect("store the order");
    let v = Visit::start(&o, "tech.a", &templates::builtin_library()).expect("visit");
    let vid = DocId::visit(&o.order_id, "tech.a");
    store.create(&vid, &v).expect("store the visit");
    let ids = vec![oid, vid];
    if synced {
        for id in &ids {
            let heads = store.load_doc(id).unwrap().get_heads();
            store.mark_synced(id, &heads).unwrap();
        }
    }
    ids
}

#[test]
fn settled_jobs_outside_the_window_leave_whole_and_nothing_unsynced_or_held_goes() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open_in(dir.path()).unwrap();
    let gone = job(&mut s, 1, OLD, true, true);
    let open_old = job(&mut s, 2, OLD, false, true);
    let recent = job(&mut s, 3, NOW - 10 * 24 * HOUR, true, true);
    let unsynced = job(&mut s, 4, OLD, true, false);
    let held = job(&mut s, 5, OLD, true, true);
    s.hold_job("o-00005", NOW + HOUR).unwrap();
    let household = DocId::Household("hh-1".into());
    s.create(&household, &seed::household(1, OLD)).unwrap();

    let cutoff = retention::cutoff(NOW, 90);
    let evicted = s.evict_history(cutoff, NOW).unwrap();
    assert_eq!(
        evicted,
        Evicted {
            jobs: 1,
            docs: 2,
            kept_unsynced: 1
        },
        "one settled old job goes with its visit; the unsynced one is counted and kept"
    );
    for id in &gone {
        assert!(!s.contains(id).unwrap(), "{id} left with its job");
    }
    for id in open_old
        .iter()
        .chain(&recent)
        .chain(&unsynced)
        .chain(&held)
        .chain([&household])
    {
        assert!(s.contains(id).unwrap(), "{id} stays");
    }
    assert!(
        s.sync_state(&gone[0]).unwrap().is_none(),
        "an evicted document's sync state goes too: it is fetched whole if it comes back"
    );
    let pending = s.pending_docs().unwrap();
    assert!(
        unsynced.iter().all(|id| pending.contains(id)),
        "the unsynced job's documents still wait to be sent"
    );

    let later = s.evict_history(cutoff, NOW + 2 * HOUR).unwrap();
    assert_eq!(later.jobs, 1, "the hold ran out: the fetched job goes too");
    assert!(!s.contains(&held[0]).unwrap());
}

#[test]
fn an_eviction_that_cannot_remove_a_whole_job_removes_none_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open_in(dir.path()).unwrap();
    let ids = job(&mut s, 1, OLD, true, true);
    // A change to the visit made here after the sync: the job must stay whole.
    s.update::<Visit, _>(&ids[1], |v| {
        v.diagnosis = "noted later".into();
        Ok(())
    })
    .unwrap();
    let evicted = s.evict_history(retention::cutoff(NOW, 90), NOW).unwrap();
    assert_eq!((evicted.jobs, evicted.kept_unsynced), (0, 1));
    assert!(
        s.contains(&ids[0]).unwrap() && s.contains(&ids[1]).unwrap(),
        "neither the order nor the visit left: the transaction removed nothing"
    );
}
