//! A change the relay refuses (checked there with the domain's own rules) stays on the device,
//! shows on its order with the rule's code, and is not sent again until the document changes —
//! no silent loop of retries.

mod common;

use common::{complete_job, signed_in};

use onsite_domain::visit::Visit;
use onsite_domain::{Code, DocId};
use onsite_testkit::relay::{Seeded, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_change_to_a_signed_record_is_kept_shown_and_not_resent() {
    let seeded = Seeded::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = signed_in(dir.path(), &seeded.url, "tech.a").await;
    wait_for("today's orders", || {
        app.today().map(|t| !t.orders.is_empty()).unwrap_or(false)
    })
    .await;
    let oid = app.today().expect("today").orders[0].order_id.clone();
    complete_job(&app, &oid, "tech.a");
    app.sync_now().expect("sync");
    wait_for("the signed record to reach the relay", || {
        app.order_detail(&oid).is_ok_and(|d| !d.pending_sync)
    })
    .await;

    // A modified client writes the signed visit directly, past the edit rules.
    let visit_id = DocId::visit(&oid, "tech.a");
    app.store()
        .lock()
        .expect("store")
        .update(&visit_id, |v: &mut Visit| {
            v.diagnosis = "rewritten after signing".into();
            Ok::<(), onsite_domain::DomainError>(())
        })
        .expect("the raw write");
    app.sync_now().expect("sync");
    wait_for("the relay's refusal on the order", || {
        app.order_detail(&oid).is_ok_and(|d| d.refused.is_some())
    })
    .await;
    let d = app.order_detail(&oid).expect("detail");
    let refused = d.refused.expect("refused");
    assert_eq!(
        refused.code,
        Code::RecordFrozen,
        "the rule's code: {}",
        refused.message
    );
    assert_eq!(
        d.diagnosis, "rewritten after signing",
        "the local change is kept, not thrown away"
    );
    assert!(d.pending_sync, "the change is still not on the relay");
    let stored: Visit = onsite_relay::RelayStorage::doc(&*seeded.relay().storage, &visit_id)
        .expect("read")
        .map(|b| {
            onsite_domain::doc::read(&onsite_domain::doc::load(&b).expect("loads")).expect("visit")
        })
        .expect("the relay holds the visit");
    assert_ne!(
        stored.diagnosis, "rewritten after signing",
        "the relay stored nothing of the refused change"
    );

    // Further syncs do not send it again: the refusal stays as it was recorded.
    let synced_before = app.sync_status().expect("status").last_synced_ms;
    std::thread::sleep(std::time::Duration::from_millis(5));
    app.sync_now().expect("sync");
    wait_for("another completed sync", || {
        app.sync_status()
            .is_ok_and(|s| s.last_synced_ms > synced_before)
    })
    .await;
    let again = app
        .order_detail(&oid)
        .expect("detail")
        .refused
        .expect("kept");
    assert_eq!(
        again.at_ms, refused.at_ms,
        "the refused change was not sent (and refused) again"
    );
}
