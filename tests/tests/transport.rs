//! The transport between devices and relay (issue 12 §3): a device built from the real
//! `onsite-client`, trusting a centre's own CA, signs in and syncs with a relay that serves TLS
//! itself; and plain `http://` to another machine is refused before anything is sent, unless the
//! device explicitly allows it. Everything on 127.0.0.1: a name other than `localhost` is pinned
//! to 127.0.0.1 by [`Relay::resolving`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use onsite_client::{ClientError, Relay, Transport};
use onsite_domain::Code;
use onsite_relay::{Config, RunningRelay};
use onsite_testkit::relay::{Seeded, seeded_database, start_https};
use onsite_testkit::tls::TestCa;
use onsite_testkit::{DAY, PASSWORD};
use onsite_tests::Device;

/// A seeded relay in `dir` serving TLS with a certificate of `ca`.
async fn tls_relay(dir: &std::path::Path, ca: &TestCa) -> RunningRelay {
    let (cert, key) = (dir.join("relay.crt"), dir.join("relay.key"));
    ca.leaf().write(&cert, &key);
    let config = Config {
        tls_cert: Some(cert),
        tls_key: Some(key),
        ..Config::for_database(seeded_database(dir, DAY))
    };
    start_https(config, &ca.cert_pem).await
}

#[tokio::test]
async fn a_device_trusting_the_centres_ca_signs_in_and_syncs_over_https() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let relay = tls_relay(dir.path(), &ca).await;
    assert!(
        relay.url().starts_with("https://127.0.0.1:"),
        "a relay with a certificate serves HTTPS: {}",
        relay.url()
    );

    let stranger = tempfile::tempdir().unwrap();
    let store = onsite_store::Store::open_in(stranger.path()).unwrap();
    let store = Arc::new(std::sync::Mutex::new(store));
    let e = onsite_client::sign_in(
        &store,
        &relay.url(),
        "tech.a",
        PASSWORD,
        &Default::default(),
    )
    .await
    .expect_err("a device that does not trust the centre's CA");
    assert!(
        e.is_offline(),
        "a certificate it cannot verify is never talked to: {e}"
    );

    let trusting = Transport {
        extra_roots_pem: Some(ca.cert_pem.clone()),
        ..Transport::default()
    };
    let device = Device::sign_in_with(&relay.url(), "tech.a", &trusting).await;
    let report = device.sync().await.expect("the device syncs over HTTPS");
    assert!(report.cursor > 0, "the feed moved the device's cursor");
    let orders = device.order_ids();
    assert!(
        ["o-00000", "o-00002", "o-00004"]
            .iter()
            .all(|o| orders.iter().any(|have| have == o)),
        "tech.a's orders of the day arrived over TLS: {orders:?}"
    );
    assert_eq!(
        Transport::load(&device.store).unwrap(),
        trusting,
        "the transport used to sign in is kept with the session"
    );
    relay.stop().await;
}

#[test]
fn extra_roots_that_are_not_certificates_are_refused_and_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = onsite_store::Store::open_in(dir.path()).unwrap();
    let store = Arc::new(std::sync::Mutex::new(store));
    let bad = Transport {
        extra_roots_pem: Some(
            "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n".into(),
        ),
        ..Transport::default()
    };
    let e = bad.save(&store).expect_err("a damaged certificate");
    assert_eq!(
        e.code(),
        Code::SyncBadTrustedRoot,
        "refused with its code: {e}"
    );
    assert_eq!(
        Transport::load(&store).unwrap(),
        Transport::default(),
        "nothing was stored"
    );
    let e = Relay::with_transport("https://127.0.0.1:1", &bad).expect_err("no client with it");
    assert_eq!(e.code(), Code::SyncBadTrustedRoot, "{e}");
}

/// A TCP forwarder on 127.0.0.1 to `to` that counts the connections it is given.
async fn counting_forwarder(to: SocketAddr) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(to).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (addr, count)
}

#[tokio::test]
async fn plain_http_to_another_machine_is_refused_before_anything_is_sent() {
    let relay = Seeded::start().await;
    let (forwarder, connections) = counting_forwarder(relay.relay().addr).await;
    // A relay on another machine, as the device sees it (pinned to the forwarder on 127.0.0.1).
    let url = format!("http://relay.centre.example:{}", forwarder.port());

    let strict = Transport::default();
    let e = Relay::resolving(&url, &strict, forwarder).expect_err("plain HTTP over a network");
    assert_eq!(e.code(), Code::SyncPlainHttp, "refused with its code: {e}");
    assert!(matches!(e, ClientError::PlainHttp(_)));

    let dir = tempfile::tempdir().unwrap();
    let store = onsite_store::Store::open_in(dir.path()).unwrap();
    let store = Arc::new(std::sync::Mutex::new(store));
    let e = onsite_client::sign_in(&store, &url, "tech.a", PASSWORD, &Default::default())
        .await
        .expect_err("the sign-in is refused");
    assert_eq!(e.code(), Code::SyncPlainHttp, "{e}");
    assert!(
        onsite_client::Session::load(&store).unwrap().is_none(),
        "no session is kept"
    );
    let e = Relay::for_device(&store, &url).expect_err("so is every later request");
    assert_eq!(e.code(), Code::SyncPlainHttp, "{e}");
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "not one connection was opened: the password never left the device"
    );

    let allowed = Transport {
        allow_plain_http: true,
        ..Transport::default()
    };
    let caps = Relay::resolving(&url, &allowed, forwarder)
        .expect("the user's explicit choice allows it")
        .capabilities()
        .await
        .expect("the relay answers over plain HTTP");
    assert!(caps.api_versions.contains(&onsite_wire::API_VERSION));
    assert!(
        connections.load(Ordering::SeqCst) > 0,
        "this time the request went out"
    );
    allowed.save(&store).unwrap();
    assert!(
        Relay::for_device(&store, &url).is_ok(),
        "the device's stored choice applies to its later requests"
    );
    assert!(
        onsite_client::unencrypted(&url) && !onsite_client::unencrypted(&relay.url),
        "the app shows the connection as unencrypted only when it crosses a network"
    );
    assert!(
        Relay::new(&relay.url).is_ok(),
        "loopback plain HTTP needs no permission"
    );
}
