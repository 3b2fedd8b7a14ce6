//! Tenancy on a real relay (issue 14): two service centres on one relay, attacked from every
//! side — each centre's dispatcher and technician read by feed and by asking for ids, write
//! into the other centre's documents, assign across centres and fetch its photos; the
//! company's admin reaches both. Runs on SQLite and on PostgreSQL.

mod common;

use automerge::AutoCommit;
use common::*;
use onsite_domain::order::Order;
use onsite_domain::reference::FeeSchedule;
use onsite_domain::sla::SlaPolicy;
use onsite_domain::{DocId, HOUR, doc, seed};
use onsite_relay::RunningRelay;
use onsite_relay::accounts::{self, NewUser};
use onsite_sync::device::{self, PeerState};
use onsite_wire::{Code, DocMessage, Role, SyncRequest};
use reqwest::StatusCode;
use sha2::Digest;

/// The second centre and its people (the demo company's own is `main`).
const SH: &str = "sh";
const SH_DISPATCHER: &str = "disp.sh";
const SH_TECHNICIAN: &str = "tech.sh";

fn sh_order() -> DocId {
    DocId::Order("sh-00100".into())
}

fn sh_household() -> DocId {
    DocId::Household("hh-sh-1".into())
}

/// Add centre `sh` with a dispatcher and a technician.
fn add_second_centre(relay: &RunningRelay) {
    let s = relay.storage.as_ref();
    accounts::add_centre(s, SH, "上海服务中心 Shanghai", DAY).expect("a new centre");
    for (user_id, role) in [
        (SH_DISPATCHER, Role::Dispatcher),
        (SH_TECHNICIAN, Role::Technician),
    ] {
        let new = NewUser {
            user_id,
            display_name: user_id,
            role,
            centre: SH,
        };
        accounts::add_user_in(s, &new, PASSWORD, DAY).expect("an account in centre sh");
    }
}

/// Centre `sh`'s dispatcher creates its technician's profile, a household and an order assigned
/// to that technician; the technician signs the job.
async fn fill_second_centre(relay: &RunningRelay) -> (Device, Device) {
    let mut disp = Device::sign_in(&relay.url(), SH_DISPATCHER).await;
    disp.sync().await;
    let profile = seed::technician(SH_TECHNICIAN, "赵师傅", "13900000009", "CERT-SH-1", DAY);
    let mut household = seed::household(0, DAY);
    household.household_id = "hh-sh-1".into();
    let mut new = seed::order(100, DAY);
    new.order_id = "sh-00100".into();
    new.order_no = "WO-SH-00100".into();
    let mut order = Order::create(new, &SlaPolicy::default(), DAY).expect("a valid order");
    order
        .assign("t-sh", &profile, "", SH_DISPATCHER, DAY + HOUR)
        .expect("the technician is qualified");
    put(&mut disp, DocId::Profile(SH_TECHNICIAN.into()), &profile);
    put(&mut disp, sh_household(), &household);
    put(&mut disp, sh_order(), &order);
    disp.sync().await;
    let mut tech = Device::sign_in(&relay.url(), SH_TECHNICIAN).await;
    tech.sync().await;
    tech.sign_job(&sh_order(), SH_TECHNICIAN, DAY + 9 * HOUR)
        .await;
    disp.sync().await;
    (disp, tech)
}

fn put<T: autosurgeon::Reconcile>(dev: &mut Device, id: DocId, value: &T) {
    let d = doc::create(value).expect("the document reconciles");
    dev.docs.insert(id, (d, PeerState::new()));
}

fn ask(cursor: u64, id: &DocId) -> SyncRequest {
    SyncRequest {
        snapshot: None,
        window_days: None,
        cursor,
        docs: vec![DocMessage {
            doc: id.clone(),
            message: device::request_missing(),
        }],
        count_remaining: false,
    }
}

/// The documents `dev` holds that belong to a centre (all but the company-wide references).
fn centre_docs(dev: &Device) -> Vec<DocId> {
    dev.docs
        .keys()
        .filter(|d| !onsite_sync::access::company_wide(d))
        .cloned()
        .collect()
}

/// `dev` asks for every one of `ids` by id: each answered like a document that does not exist.
async fn asks_find_nothing(dev: &Device, who: &str, ids: &[DocId]) {
    for id in ids {
        let resp = dev.client.sync(&ask(dev.cursor, id)).await.unwrap();
        assert!(
            resp.docs.iter().all(|m| &m.doc != id),
            "{who} asked for {id} of another centre and must get nothing of it"
        );
        assert_eq!(
            resp.rejected.first().map(|r| r.code),
            Some(Code::DocumentNotFound),
            "{who} asking for {id} of another centre: the same answer as for a missing document"
        );
    }
}

/// Stored document `id` with a change through `f`, as a hostile client that got hold of a
/// copy would send it.
fn forged_copy<T: autosurgeon::Reconcile + autosurgeon::Hydrate>(
    relay: &RunningRelay,
    id: &DocId,
    f: impl FnOnce(&mut T),
) -> AutoCommit {
    let stored = relay.storage.doc(id).unwrap().expect("stored");
    let mut d = AutoCommit::load(&stored).unwrap();
    let mut value: T = doc::read(&d).unwrap();
    f(&mut value);
    doc::write(&mut d, &value).unwrap();
    d.commit();
    d
}

async fn send(dev: &Device, id: &DocId, mut d: AutoCommit) -> onsite_wire::SyncResponse {
    let msg = device::outgoing(&mut d, &PeerState::new()).expect("a message");
    dev.client
        .sync(&device::build_request(dev.cursor, vec![(id.clone(), msg)]))
        .await
        .expect("the request itself is fine")
}

#[tokio::test]
async fn feeds_and_asks_never_cross_centres_but_the_admin_sees_both() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    seed(&relay);
    add_second_centre(&relay);
    let (mut sh_disp, mut sh_tech) = fill_second_centre(&relay).await;
    let sh_visit = DocId::visit("sh-00100", SH_TECHNICIAN);
    let mut main_disp = Device::sign_in(&relay.url(), "disp").await;
    main_disp.sync().await;
    let mut tech_a = Device::sign_in(&relay.url(), "tech.a").await;
    tech_a.sync().await;
    sh_disp.sync().await;
    sh_tech.sync().await;

    let sh_ids = centre_docs(&sh_disp);
    for id in [sh_order(), sh_visit.clone(), sh_household()] {
        assert!(sh_ids.contains(&id), "centre sh's dispatcher holds {id}");
    }
    let main_ids = centre_docs(&main_disp);
    assert!(
        main_ids.len() > 10,
        "the demo centre's dispatcher holds its orders, visits, registry: {main_ids:?}"
    );
    for (who, held, others) in [
        ("disp (main)", &main_ids, &sh_ids),
        ("disp.sh", &sh_ids, &main_ids),
    ] {
        let leaked: Vec<_> = held.iter().filter(|d| others.contains(d)).collect();
        assert!(
            leaked.is_empty(),
            "{who}'s feed carried the other centre's {leaked:?}"
        );
    }
    assert!(
        sh_disp.docs.contains_key(&DocId::Templates)
            && sh_tech.docs.contains_key(&DocId::FeeSchedule),
        "the company-wide reference documents reach every centre"
    );
    asks_find_nothing(&main_disp, "disp (main)", &sh_ids).await;
    asks_find_nothing(&tech_a, "tech.a", &sh_ids).await;
    asks_find_nothing(&sh_disp, "disp.sh", &main_ids).await;
    asks_find_nothing(&sh_tech, "tech.sh", &main_ids).await;

    let mut admin = Device::sign_in(&relay.url(), "admin").await;
    admin.sync().await;
    for id in sh_ids.iter().chain(&main_ids) {
        assert!(
            admin.docs.contains_key(id),
            "the company's admin holds {id} of every centre"
        );
    }
    relay.stop().await;
}

#[tokio::test]
async fn writes_assignments_and_photos_never_cross_centres() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    seed(&relay);
    add_second_centre(&relay);
    let (sh_disp, sh_tech) = fill_second_centre(&relay).await;
    let mut main_disp = Device::sign_in(&relay.url(), "disp").await;
    main_disp.sync().await;
    let stored = relay.storage.change_count().unwrap();
    let main_order = DocId::Order("o-00000".into());

    // A hostile sh dispatcher overwrites main's order and sh's with a fresh history each way.
    let forged = forged_copy::<Order>(&relay, &main_order, |o| o.problem = "forged".into());
    let resp = send(&sh_disp, &main_order, forged).await;
    assert_eq!(
        resp.rejected.first().map(|r| r.code),
        Some(Code::DocumentNotFound),
        "another centre's order does not exist for disp.sh"
    );
    let forged = forged_copy::<Order>(&relay, &sh_order(), |o| o.problem = "forged".into());
    let resp = send(&main_disp, &sh_order(), forged).await;
    assert_eq!(
        resp.rejected.first().map(|r| r.code),
        Some(Code::DocumentNotFound),
        "centre sh's order does not exist for main's dispatcher"
    );
    // One centre's dispatcher must not change what every centre charges.
    let fees = forged_copy::<FeeSchedule>(&relay, &DocId::FeeSchedule, |f| f.items.clear());
    let resp = send(&sh_disp, &DocId::FeeSchedule, fees).await;
    assert_eq!(
        resp.rejected.first().map(|r| r.code),
        Some(Code::AccessReadOnly),
        "the company-wide fee schedule is the admins' to change"
    );
    assert_eq!(
        relay.storage.change_count().unwrap(),
        stored,
        "nothing of a refused write was stored"
    );

    // main's dispatcher hands its order to sh's technician.
    main_disp.edit_order_unsynced(&main_order, |o| {
        o.transfers.push(onsite_domain::order::Transfer {
            id: "cross".into(),
            from: o.assignee.clone(),
            to: SH_TECHNICIAN.into(),
            reason: "busy".into(),
            by: "disp".into(),
            at_ms: DAY + 2 * HOUR,
        });
        o.assignee = Some(SH_TECHNICIAN.into());
    });
    let resp = main_disp.exchange().await.unwrap();
    let r = resp.rejected.first().expect("the assignment is refused");
    assert_eq!(
        (&r.doc, r.code),
        (&main_order, Code::AssignmentOtherCentre),
        "{}",
        r.message
    );
    assert_eq!(relay.storage.change_count().unwrap(), stored);

    // A photo of sh's technician: their centre's dispatcher and the admin read it, main's not.
    let png = onsite_testkit::job::signature_png();
    let sha = hex::encode(sha2::Sha256::digest(&png));
    let url = format!("{}/api/v1/attachments/{sha}", relay.url());
    let up = sh_tech
        .client
        .http
        .put(&url)
        .bearer_auth(&sh_tech.client.token)
        .header("content-type", "image/png")
        .body(png)
        .send()
        .await
        .unwrap();
    assert!(up.status().is_success(), "upload: {}", up.status());
    let admin = Device::sign_in(&relay.url(), "admin").await;
    for (dev, who, want) in [
        (&sh_disp, "disp.sh", StatusCode::OK),
        (&admin, "admin", StatusCode::OK),
        (&main_disp, "disp (main)", StatusCode::NOT_FOUND),
    ] {
        let got = dev
            .client
            .http
            .get(&url)
            .bearer_auth(&dev.client.token)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(got, want, "{who} fetching a photo of centre sh");
    }

    // The admin changes centre sh's order: accepted.
    let mut admin = admin;
    admin.sync().await;
    admin
        .edit_order(&sh_order(), |o| o.problem.push_str(" (admin)"))
        .await;
    relay.stop().await;
}

onsite_testkit::on_postgres!(
    feeds_and_asks_never_cross_centres_but_the_admin_sees_both,
    writes_assignments_and_photos_never_cross_centres,
);
