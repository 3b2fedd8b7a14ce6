//! The relay serving TLS itself (issue 12 §3), on 127.0.0.1 with certificates made up by a test
//! CA: it refuses to start with half a pair or a file that is not PEM; when the files are
//! replaced, new connections get the new certificate; a broken replacement is refused and the
//! certificate in use stays.

use std::path::{Path, PathBuf};
use std::time::Duration;

use onsite_relay::{Config, RunningRelay};
use onsite_testkit::tls::{Leaf, TestCa, replace};

struct Files {
    cert: PathBuf,
    key: PathBuf,
}

fn files(dir: &Path) -> Files {
    Files {
        cert: dir.join("relay.crt"),
        key: dir.join("relay.key"),
    }
}

fn config(dir: &Path, f: &Files) -> Config {
    Config {
        tls_cert: Some(f.cert.clone()),
        tls_key: Some(f.key.clone()),
        ..Config::for_database(onsite_testkit::backend::database(dir))
    }
}

/// A fresh connection (no pooling) to the relay, trusting `ca`: the certificate it was shown.
async fn peer_certificate(relay: &RunningRelay, ca: &TestCa) -> Vec<u8> {
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.cert_pem.as_bytes()).unwrap())
        .pool_max_idle_per_host(0)
        .tls_info(true)
        .build()
        .unwrap();
    let r = client
        .get(format!("{}/healthz", relay.url()))
        .send()
        .await
        .expect("the relay answers over TLS");
    assert!(r.status().is_success(), "healthz answers {}", r.status());
    r.extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|i| i.peer_certificate())
        .expect("a TLS connection shows its certificate")
        .to_vec()
}

/// Poll (never a fixed sleep) until `done`, failing after 20 s with `what`.
async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn start(dir: &Path, f: &Files, ca: &TestCa) -> RunningRelay {
    onsite_testkit::relay::start_https(config(dir, f), &ca.cert_pem).await
}

#[tokio::test]
async fn a_replaced_certificate_is_used_for_new_connections_and_a_broken_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let f = files(dir.path());
    let ca = TestCa::new();
    let first = ca.leaf();
    first.write(&f.cert, &f.key);
    let relay = start(dir.path(), &f, &ca).await;
    assert!(relay.url().starts_with("https://"), "{}", relay.url());
    assert_eq!(
        peer_certificate(&relay, &ca).await,
        first.der,
        "the relay shows the certificate it was started with"
    );
    let reloads = relay
        .tls_reloads
        .clone()
        .expect("a TLS relay records reloads");

    let second = ca.leaf();
    second.write(&f.cert, &f.key);
    until("new connections get the replaced certificate", async || {
        peer_certificate(&relay, &ca).await == second.der
    })
    .await;
    assert!(reloads.applied() >= 1, "the reload was recorded");

    // A broken replacement: a key that is not PEM, then a certificate whose key is another's.
    let refused = reloads.refused();
    replace(&f.key, b"not a key");
    until("the broken key is refused", async || {
        reloads.refused() > refused
    })
    .await;
    assert_eq!(
        peer_certificate(&relay, &ca).await,
        second.der,
        "a key that does not load keeps the certificate in use"
    );
    let third: Leaf = ca.leaf();
    replace(&f.key, second.key_pem.as_bytes());
    let refused = reloads.refused();
    replace(&f.cert, third.cert_pem.as_bytes());
    until("the mismatched pair is refused", async || {
        reloads.refused() > refused
    })
    .await;
    assert_eq!(
        peer_certificate(&relay, &ca).await,
        second.der,
        "a certificate whose key is not in the key file keeps the pair in use"
    );
    relay.stop().await;
}

#[tokio::test]
async fn the_relay_refuses_to_start_with_half_a_pair_or_a_file_that_is_not_pem() {
    let dir = tempfile::tempdir().unwrap();
    let f = files(dir.path());
    let start = async |config: Config| {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        match onsite_relay::start(config, listener).await {
            Ok(_) => panic!("the relay must not start"),
            Err(e) => e.to_string(),
        }
    };
    let half = Config {
        tls_key: None,
        ..config(dir.path(), &f)
    };
    let e = start(half).await;
    assert!(
        e.contains("tls_cert") && e.contains("tls_key"),
        "half a pair is named: {e}"
    );

    let e = start(config(dir.path(), &f)).await;
    assert!(e.contains("relay.crt"), "a missing file is named: {e}");

    std::fs::write(&f.cert, "not a certificate").unwrap();
    std::fs::write(&f.key, "not a key").unwrap();
    let e = start(config(dir.path(), &f)).await;
    assert!(
        e.contains("relay.crt") && e.contains("no PEM certificate"),
        "a file that is not PEM is named: {e}"
    );

    let leaf = TestCa::new().leaf();
    std::fs::write(&f.cert, &leaf.cert_pem).unwrap();
    let e = start(config(dir.path(), &f)).await;
    assert!(
        e.contains("relay.key"),
        "a key that is not PEM is named: {e}"
    );
}
