//! The public certificate page `/verify/cert/<certificate-no>/<signature>` (一证件) against a
//! seeded relay on 127.0.0.1: valid, expired and withdrawn states, nothing personal on the page,
//! a bad signature answers like an unknown certificate, and the signing key survives a restart.

mod common;

use onsite_domain::reference::CertificateState;
use onsite_domain::reference::TechnicianProfile;
use onsite_domain::{DocId, HOUR, doc};
use onsite_relay::Config;
use onsite_relay::api::now_ms;
use onsite_relay::cert_page::{self, CertificateCheck};
use onsite_relay::certificate::{self, Withdrawal};
use onsite_relay::seed::TECHNICIANS;
use onsite_testkit::DAY;
use onsite_testkit::relay::Seeded;
use reqwest::StatusCode;

async fn get(url: &str, lang: &str) -> (StatusCode, String) {
    let r = reqwest::Client::new()
        .get(url)
        .header("accept-language", lang)
        .send()
        .await
        .expect("the relay answers");
    (r.status(), r.text().await.expect("a text body"))
}

fn path_of(relay: &Seeded, technician: &str) -> String {
    certificate::path_of(relay.relay().storage.as_ref(), technician, now_ms())
        .expect("storage works")
        .expect("the seeded technician has a profile")
}

#[tokio::test]
async fn the_page_shows_name_stars_and_state_and_nothing_personal() {
    let relay = Seeded::start().await;
    let (id, name, phone, cert) = TECHNICIANS[0];
    let path = path_of(&relay, id);
    assert!(path.starts_with(&format!("/verify/cert/{cert}/")), "{path}");

    let (status, en) = get(&format!("{}{path}", relay.url), "en-US,en;q=0.9").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a signed link of a known certificate"
    );
    assert!(en.contains("Certificate valid"), "state in English: {en}");
    assert!(en.contains(name), "the technician's name");
    assert!(en.contains("★★★★★"), "the star level");
    for private in [phone, id, "CERT-HA-0002", "13900000002"] {
        assert!(
            !en.contains(private),
            "the page must not show {private:?}: {en}"
        );
    }
    let (_, zh) = get(&format!("{}{path}", relay.url), "zh-CN").await;
    assert!(zh.contains("证件有效"), "state in Chinese: {zh}");
    assert!(zh.contains("lang=\"zh-CN\""), "the page says its language");

    // The state the page shows follows the profile at the relay's time.
    let storage = relay.relay().storage.as_ref();
    let sig = path.rsplit('/').next().unwrap();
    let later = DAY + 400 * 24 * HOUR;
    assert_eq!(
        cert_page::check(storage, cert, sig, later).unwrap(),
        CertificateCheck::Known {
            name: name.to_owned(),
            stars: 5,
            state: CertificateState::Expired
        },
        "past its expiry the certificate shows as expired"
    );
    assert!(
        cert_page::render(
            &cert_page::check(storage, cert, sig, later).unwrap(),
            onsite_record::Lang::En
        )
        .contains("Certificate expired"),
        "the page says so"
    );
    relay.stop().await;
}

#[tokio::test]
async fn a_withdrawal_shows_at_once_and_a_bad_signature_is_an_unknown_certificate() {
    let relay = Seeded::start().await;
    let storage = relay.relay().storage.clone();
    let path = path_of(&relay, "tech.b");
    let url = format!("{}{path}", relay.url);

    let withdrawn = certificate::withdraw(
        storage.as_ref(),
        &Config::default().limits(),
        "tech.b",
        now_ms(),
    )
    .expect("the admin withdraws the certificate");
    assert!(matches!(withdrawn, Withdrawal::Withdrawn { .. }));
    let (status, page) = get(&url, "en").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a withdrawn certificate is still known"
    );
    assert!(
        page.contains("data-state=\"withdrawn\"") && page.contains("Certificate withdrawn"),
        "shows as withdrawn at once: {page}"
    );

    let (cert_path, sig) = path.rsplit_once('/').unwrap();
    let mut forged = sig.to_owned();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let (bad_status, bad_page) = get(&format!("{}{cert_path}/{forged}", relay.url), "en").await;
    let unknown = certificate::path(
        &certificate::signing_key(storage.as_ref(), now_ms()).unwrap(),
        "CERT-NOBODY",
    );
    let (unknown_status, unknown_page) = get(&format!("{}{unknown}", relay.url), "en").await;
    assert_eq!(
        bad_status,
        StatusCode::NOT_FOUND,
        "a bad signature is a 404"
    );
    assert_eq!(
        unknown_status,
        StatusCode::NOT_FOUND,
        "an unknown certificate is a 404"
    );
    assert_eq!(
        bad_page, unknown_page,
        "a bad signature answers exactly like an unknown certificate"
    );
    let (status, _) = get(&format!("{}/verify/cert/CERT-HA-0002/x", relay.url), "en").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "garbage signatures too");
    relay.stop().await;
}

#[tokio::test]
async fn the_signing_key_survives_a_restart() {
    let mut relay = Seeded::start().await;
    let before = path_of(&relay, "tech.a");
    relay.restart().await;
    assert_eq!(
        path_of(&relay, "tech.a"),
        before,
        "the key is kept in the relay database, so printed QR codes keep working"
    );
    let (status, _) = get(&format!("{}{before}", relay.url), "en").await;
    assert_eq!(status, StatusCode::OK, "the old link still opens the page");
    relay.stop().await;
}

#[tokio::test]
async fn a_withdrawal_synced_by_a_dispatcher_shows_on_the_page_at_once() {
    let relay = Seeded::start().await;
    let url = format!("{}{}", relay.url, path_of(&relay, "tech.a"));
    assert_eq!(get(&url, "en").await.0, StatusCode::OK, "valid before");

    let mut disp = common::Device::sign_in(&relay.url, "disp").await;
    disp.sync().await;
    let d = disp.doc(&DocId::Profile("tech.a".into()));
    let mut p: TechnicianProfile = doc::read(d).unwrap();
    p.certificate_withdrawn_at_ms = Some(DAY);
    doc::write(d, &p).unwrap();
    d.commit();
    disp.sync().await;

    let (status, page) = get(&url, "zh-CN").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("data-state=\"withdrawn\"") && page.contains("证件已吊销"),
        "the dispatcher's withdrawal shows at the next scan: {page}"
    );
    relay.stop().await;
}

// The same behaviour on PostgreSQL.
onsite_testkit::on_postgres!(
    the_page_shows_name_stars_and_state_and_nothing_personal,
    a_withdrawal_shows_at_once_and_a_bad_signature_is_an_unknown_certificate,
    the_signing_key_survives_a_restart,
    a_withdrawal_synced_by_a_dispatcher_shows_on_the_page_at_once,
);
