//! Technician profiles from the console and the appliance's service history, against a seeded
//! relay on 127.0.0.1: a dispatcher's device withdraws a certificate offline and syncs; the relay's
//! public certificate page then says withdrawn and the picker refuses the technician with the
//! reason. Only an admin edits a profile, refused fields name their code. A technician given an
//! order on an appliance another technician serviced sees that visit, parts and readings
//! included, offline.

mod common;

use onsite_app::App;
use onsite_app::view::*;
use onsite_domain::order::Tier;
use onsite_domain::reference::{CertificateState, NotQualified, ServiceType};
use onsite_domain::visit::Visit;
use onsite_domain::{Code, DocId, HOUR};
use onsite_relay::cert_page::{self, CertificateCheck};
use onsite_relay::certificate;
use onsite_testkit::DAY;
use onsite_testkit::relay::{Seeded, wait_for};

/// `user` on the device folder `name`, with every technician's profile and the day's orders.
async fn console(seeded: &Seeded, name: &str, user: &str) -> App {
    let app = common::signed_in(&seeded.dir.path().join(name), &seeded.url, user).await;
    wait_for("the profiles and orders to reach the console", || {
        app.board(0)
            .map(|b| b.lanes.len() == 2 && b.lanes.iter().all(|l| !l.blocks.is_empty()))
            .unwrap_or(false)
    })
    .await;
    app
}

fn tech<'a>(v: &'a TechniciansView, id: &str) -> &'a TechnicianView {
    v.technicians
        .iter()
        .find(|t| t.technician_id == id)
        .unwrap_or_else(|| panic!("{id} is listed: {v:?}"))
}

fn withdraw(technician_id: &str, reason: &str) -> CertificateActionRequest {
    CertificateActionRequest {
        technician_id: technician_id.to_owned(),
        reason: reason.to_owned(),
    }
}

/// What the relay's public page says for `technician_id`'s signed certificate link now.
fn public_page(seeded: &Seeded, technician_id: &str) -> CertificateCheck {
    let storage = seeded.relay().storage.as_ref();
    let now = onsite_relay::api::now_ms();
    let path = certificate::path_of(storage, technician_id, now)
        .expect("the relay reads the profile")
        .expect("a profile");
    let mut parts = path.rsplit('/');
    let (sig, no) = (
        parts.next().expect("signature"),
        parts.next().expect("number"),
    );
    cert_page::check(storage, no, sig, now).expect("the page's check")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_withdrawn_offline_shows_on_the_public_page_and_in_the_picker() {
    let seeded = Seeded::start().await;
    let disp = console(&seeded, "disp", "disp").await;
    let before = disp.technicians().expect("technicians");
    assert_eq!(
        (before.can_edit, before.can_withdraw, before.can_reinstate),
        (false, true, false),
        "a dispatcher withdraws; only an admin edits and reinstates"
    );
    assert_eq!(tech(&before, "tech.b").certificate, CertificateState::Valid);
    assert!(
        tech(&before, "tech.a").load_today > 0,
        "today's load is counted"
    );

    disp.stop_sync();
    let empty = disp
        .withdraw_certificate(withdraw("tech.b", "  "))
        .expect_err("no reason");
    assert_eq!(empty.code(), Code::ProfileReasonRequired, "{empty}");
    let after = disp
        .withdraw_certificate(withdraw("tech.b", "客户投诉冒用证件 / misuse reported"))
        .expect("withdraw offline");
    let b = tech(&after, "tech.b");
    assert_eq!(
        b.certificate,
        CertificateState::Withdrawn,
        "withdrawn at once, offline"
    );
    assert_eq!(
        (b.actions.len(), b.actions[0].by.as_str()),
        (1, "disp"),
        "who withdrew it is recorded: {:?}",
        b.actions
    );
    assert_eq!(
        public_page(&seeded, "tech.b"),
        CertificateCheck::Known {
            name: b.name.clone(),
            stars: b.certificate_stars,
            state: CertificateState::Valid
        },
        "the relay does not know yet"
    );

    assert!(disp.start_sync(), "back online");
    wait_for("the withdrawal to reach the relay", || {
        matches!(
            public_page(&seeded, "tech.b"),
            CertificateCheck::Known {
                state: CertificateState::Withdrawn,
                ..
            }
        )
    })
    .await;
    let html = cert_page::render(&public_page(&seeded, "tech.b"), onsite_record::Lang::En);
    assert!(
        html.contains("Certificate withdrawn"),
        "the page says so: {html}"
    );

    let oid = disp
        .board(0)
        .expect("board")
        .lanes
        .iter()
        .find(|l| l.technician_id == "tech.a")
        .expect("tech.a's lane")
        .blocks[0]
        .order_id
        .clone();
    let picker = disp.assignment_picker(&oid).expect("picker");
    let row = picker
        .rows
        .iter()
        .find(|r| r.technician_id == "tech.b")
        .expect("tech.b is listed");
    assert_eq!(
        (row.not_qualified, row.choosable),
        (Some(NotQualified::CertificateWithdrawn), false),
        "the picker shows why tech.b cannot be chosen"
    );
    let refused = disp
        .reassign_order(&oid, "tech.b", "tech.a is ill")
        .expect_err("refused");
    assert_eq!(refused.code(), Code::OrderNotQualified, "{refused}");
    seeded.stop().await;
}

fn edit(technician_id: &str) -> ProfileEditRequest {
    ProfileEditRequest {
        technician_id: technician_id.to_owned(),
        qualifications: vec![ServiceType::Maintenance],
        certificate_id: "CERT-HA-0101".to_owned(),
        stars: 3,
        valid_from: "2026-06-01".to_owned(),
        valid_until: "2028-05-31".to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_an_admin_edits_a_profile_and_bad_fields_are_refused_by_code() {
    let seeded = Seeded::start().await;
    let disp = console(&seeded, "disp", "disp").await;
    let refused = disp.save_profile(edit("tech.b")).expect_err("dispatcher");
    assert_eq!(refused.code(), Code::ProfileNotAllowed, "{refused}");

    let admin = console(&seeded, "admin", "admin").await;
    for (bad, code) in [
        (
            ProfileEditRequest {
                qualifications: vec![],
                ..edit("tech.b")
            },
            Code::ProfileNoQualifications,
        ),
        (
            ProfileEditRequest {
                certificate_id: "CERT-HA-0001".into(),
                ..edit("tech.b")
            },
            Code::ProfileDuplicateCertificate,
        ),
        (
            ProfileEditRequest {
                valid_until: "2026-05-31".into(),
                ..edit("tech.b")
            },
            Code::ProfileBadValidUntil,
        ),
        (
            ProfileEditRequest {
                stars: 9,
                ..edit("tech.b")
            },
            Code::ProfileBadStars,
        ),
    ] {
        let err = admin.save_profile(bad.clone()).expect_err("refused");
        assert_eq!(err.code(), code, "{bad:?}: {err}");
    }
    let unchanged = admin.technicians().expect("technicians");
    assert_eq!(
        tech(&unchanged, "tech.b").certificate_id,
        "CERT-HA-0002",
        "refused edits change nothing"
    );
    let missing = admin.save_profile(edit("nobody")).expect_err("unknown");
    assert_eq!(missing.code(), Code::ProfileNotFound, "{missing}");

    let saved = admin.save_profile(edit("tech.b")).expect("an admin edits");
    let b = tech(&saved, "tech.b");
    assert_eq!(
        (
            b.qualifications.clone(),
            b.certificate_id.as_str(),
            b.certificate_stars,
            b.valid_from.as_deref(),
            b.valid_until.as_str()
        ),
        (
            vec![ServiceType::Maintenance],
            "CERT-HA-0101",
            3,
            Some("2026-06-01"),
            "2028-05-31"
        ),
        "saved as entered"
    );
    wait_for("the edit to reach the dispatcher", || {
        disp.technicians()
            .map(|v| tech(&v, "tech.b").certificate_id == "CERT-HA-0101")
            .unwrap_or(false)
    })
    .await;
    admin
        .withdraw_certificate(withdraw("tech.b", "suspended"))
        .expect("withdraw");
    let back = admin
        .reinstate_certificate(withdraw("tech.b", "suspension ended"))
        .expect("an admin reinstates");
    assert_eq!(tech(&back, "tech.b").certificate, CertificateState::Valid);
    assert_eq!(tech(&back, "tech.b").actions.len(), 2, "both on record");
    seeded.stop().await;
}

/// A new repair order on household 1's air-conditioner (the one tech.a serviced), created and
/// assigned to tech.b on the dispatcher's device.
fn repeat_order(disp: &App) -> String {
    let created = disp
        .create_order(NewOrderRequest {
            household_id: Some("hh-1".to_owned()),
            customer_name: "张伟".to_owned(),
            phone: "13800000001".to_owned(),
            address: "上海市浦东新区世纪大道 100 号 1 单元 1201".to_owned(),
            tier: Tier::Gold,
            notes: String::new(),
            appliance_id: Some("ap-hh1-ac".to_owned()),
            new_appliance: None,
            service_type: ServiceType::Repair,
            problem: "空调又不制冷 / AC not cooling again".to_owned(),
            window: Some(WindowInput {
                start_ms: DAY + 16 * HOUR,
                end_ms: DAY + 18 * HOUR,
            }),
        })
        .expect("create");
    let oid = created.card.order_id;
    disp.assign_order(&oid, "tech.b").expect("assign to tech.b");
    oid
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_technician_sees_another_technician_s_visit_to_the_appliance_offline() {
    let mut seeded = Seeded::start().await;
    let tech_a = common::signed_in(&seeded.dir.path().join("a"), &seeded.url, "tech.a").await;
    wait_for("tech.a's first order", || {
        tech_a.order_detail("o-00000").is_ok()
    })
    .await;
    common::complete_job(&tech_a, "o-00000", "tech.a");
    tech_a.sync_now().expect("sync");
    let disp = console(&seeded, "disp", "disp").await;
    wait_for("tech.a's signed visit to reach the dispatcher", || {
        let store = disp.store().lock().expect("store");
        store
            .read::<Visit>(&DocId::visit("o-00000", "tech.a"))
            .is_ok_and(|v| v.is_signed())
    })
    .await;
    let oid = repeat_order(&disp);

    let tech_b = common::signed_in(&seeded.dir.path().join("b"), &seeded.url, "tech.b").await;
    wait_for("the order to reach tech.b", || {
        tech_b.order_detail(&oid).is_ok()
    })
    .await;
    seeded.kill();
    let detail = tech_b.order_detail(&oid).expect("detail offline");
    let ac = detail
        .appliances
        .iter()
        .find(|a| a.this_order)
        .expect("the order's appliance");
    let nos: Vec<&str> = ac.history.iter().map(|e| e.order_no.as_str()).collect();
    assert_eq!(
        nos,
        ["WO-00000", "WO-H101", "WO-H100"],
        "tech.a's visits to this air-conditioner, newest first, on tech.b's device"
    );
    let repair = &ac.history[0];
    assert_eq!(
        (repair.technician_id.as_str(), repair.signed),
        ("tech.a", true),
        "by tech.a, signed"
    );
    assert!(
        repair
            .parts
            .iter()
            .any(|p| p.part_no == "AC-CAP-35UF" && p.faulty_serial == "CAP-OLD-7731"),
        "the part replaced, with the serial taken out: {:?}",
        repair.parts
    );
    assert!(
        repair.readings.iter().any(|r| r.unit == "V"),
        "the readings taken: {:?}",
        repair.readings
    );
    assert!(
        !tech_b
            .store()
            .lock()
            .expect("store")
            .contains(&DocId::Order("o-00000".into()))
            .expect("contains"),
        "tech.b never held tech.a's order: the history came with the new order"
    );
    seeded.restart().await;
    seeded.stop().await;
}
