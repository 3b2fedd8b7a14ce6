//! Sign-in as an attacker would try it, against a relay on 127.0.0.1: guessing is throttled per
//! account with `Retry-After` (and an administrator lifts the lock), oversized sign-in bodies are
//! refused before any work, a burst of sign-ins waits for a bounded number of password checks,
//! and every error answer — 404, 405 and 415 included — carries a JSON error body.

mod common;

use common::{PASSWORD, start_relay, start_relay_with};
use onsite_relay::Config;
use onsite_wire::{Code, ErrorBody, SignInRequest};
use reqwest::StatusCode;

fn attempt(user: &str, password: &str) -> SignInRequest {
    SignInRequest {
        user_id: user.into(),
        password: password.into(),
        device_id: "attacker-device".into(),
    }
}

async fn post_sign_in(base: &str, req: &SignInRequest) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/api/v1/sign-in"))
        .json(req)
        .send()
        .await
        .expect("the relay answers")
}

async fn error_body(r: reqwest::Response) -> (StatusCode, ErrorBody) {
    let status = r.status();
    let body: ErrorBody = r
        .json()
        .await
        .unwrap_or_else(|e| panic!("a {status} answer carries a JSON error body: {e}"));
    (status, body)
}

#[tokio::test]
async fn guessing_a_password_is_throttled_with_retry_after_until_an_admin_lifts_it() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    common::seed(&relay);
    let base = relay.url();
    for n in 1..=6 {
        let (status, body) =
            error_body(post_sign_in(&base, &attempt("tech.a", "guess")).await).await;
        assert_eq!(
            (status, body.code),
            (StatusCode::UNAUTHORIZED, Code::AuthBadCredentials),
            "guess {n} is checked and refused"
        );
    }
    let r = post_sign_in(&base, &attempt("tech.a", PASSWORD)).await;
    let retry = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (status, body) = error_body(r).await;
    assert_eq!(
        (status, body.code),
        (StatusCode::TOO_MANY_REQUESTS, Code::AuthThrottled),
        "after five free failures even the right password waits"
    );
    assert_eq!(
        retry.as_deref(),
        Some("1"),
        "the answer says how long to wait"
    );

    assert!(
        onsite_relay::accounts::unlock_user(relay.storage.as_ref(), "tech.a").unwrap(),
        "an administrator lifts the lock"
    );
    let r = post_sign_in(&base, &attempt("tech.a", PASSWORD)).await;
    assert_eq!(r.status(), StatusCode::OK, "the technician is back at once");
    relay.stop().await;
}

#[tokio::test]
async fn an_oversized_sign_in_is_refused_before_any_password_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    let huge = attempt("tech.a", &"x".repeat(64 * 1024));
    let (status, body) = error_body(post_sign_in(&relay.url(), &huge).await).await;
    assert_eq!(
        (status, body.code),
        (StatusCode::PAYLOAD_TOO_LARGE, Code::RequestTooLarge),
        "a sign-in is a few hundred bytes; 64 KiB is refused unread"
    );
    relay.stop().await;
}

#[tokio::test]
async fn a_burst_of_sign_ins_waits_for_a_turn_and_those_that_wait_too_long_are_told_busy() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_database(onsite_testkit::backend::database(dir.path()));
    config.max_concurrent_password_checks = 1;
    config.sign_in_wait_secs = 0;
    let relay = start_relay_with(config).await;
    common::seed(&relay);
    let base = relay.url();
    let burst: Vec<_> = (0..8)
        .map(|i| {
            let base = base.clone();
            tokio::spawn(async move {
                let r = post_sign_in(&base, &attempt(&format!("user-{i}"), "guess")).await;
                error_body(r).await
            })
        })
        .collect();
    let mut codes = Vec::new();
    for b in burst {
        codes.push(b.await.expect("request task").1.code);
    }
    assert!(
        codes.contains(&Code::RelayBusy),
        "with one password check at a time and no waiting, a burst of eight is partly told busy: {codes:?}"
    );
    assert!(
        codes
            .iter()
            .all(|c| matches!(c, Code::RelayBusy | Code::AuthBadCredentials)),
        "each is either checked and refused or told busy: {codes:?}"
    );
    relay.stop().await;
}

#[tokio::test]
async fn every_error_answer_carries_a_json_error_body() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    let http = reqwest::Client::new();
    let base = relay.url();
    let cases = [
        (
            http.get(format!("{base}/api/v1/nothing-here")),
            StatusCode::NOT_FOUND,
            Code::RouteNotFound,
        ),
        (
            http.get(format!("{base}/api/v1/sign-in")),
            StatusCode::METHOD_NOT_ALLOWED,
            Code::RouteMethodNotAllowed,
        ),
        (
            http.delete(format!("{base}/api/v1/sync")),
            StatusCode::METHOD_NOT_ALLOWED,
            Code::RouteMethodNotAllowed,
        ),
        (
            http.post(format!("{base}/api/v1/sign-in"))
                .header("content-type", "text/plain")
                .body("user=tech.a"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::RequestUnsupportedContentType,
        ),
    ];
    for (request, status, code) in cases {
        let (got_status, body) = error_body(request.send().await.expect("answer")).await;
        assert_eq!((got_status, body.code), (status, code));
        assert!(!body.message.is_empty(), "{code:?} says why in words");
    }
    relay.stop().await;
}

#[tokio::test]
async fn a_refresh_exchanges_a_live_token_for_a_fresh_one_and_the_old_one_stops_working() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    common::seed(&relay);
    let base = relay.url();
    let r = post_sign_in(&base, &attempt("tech.a", PASSWORD)).await;
    assert_eq!(r.status(), StatusCode::OK, "signed in");
    let first: onsite_wire::SignInResponse = r.json().await.unwrap();
    let http = reqwest::Client::new();
    let refresh = |token: String| {
        let http = http.clone();
        let url = format!("{base}/api/v1/session/refresh");
        async move { http.post(url).bearer_auth(token).send().await.unwrap() }
    };
    let r = refresh(first.token.clone()).await;
    assert_eq!(r.status(), StatusCode::OK, "a live token is refreshed");
    let fresh: onsite_wire::SignInResponse = r.json().await.unwrap();
    assert_ne!(fresh.token, first.token, "a new token");
    assert!(
        fresh.expires_at_ms >= first.expires_at_ms,
        "the new token lives at least as long"
    );
    assert_eq!(
        (fresh.user_id.as_str(), fresh.role, &fresh.order_prefix),
        (first.user_id.as_str(), first.role, &first.order_prefix),
        "same user, role and device prefix"
    );
    let (status, body) = error_body(refresh(first.token.clone()).await).await;
    assert_eq!(
        (status, body.code),
        (StatusCode::UNAUTHORIZED, Code::AuthTokenRevoked),
        "the exchanged token stops working: {}",
        body.message
    );
    let r = http
        .post(format!("{base}/api/v1/sync"))
        .bearer_auth(&fresh.token)
        .json(&onsite_wire::SyncRequest {
            snapshot: None,
            window_days: None,
            cursor: 0,
            docs: Vec::new(),
            count_remaining: false,
        })
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the fresh token syncs");
}

/// Twenty-one wrong sign-ins (on as many unknown accounts) with `X-Forwarded-For: forwarded`
/// lock the client address they are counted against.
async fn guess_from(base: &str, forwarded: &str) {
    let client = reqwest::Client::new();
    for n in 0..=onsite_relay::throttle::ADDRESS.free_failures {
        let r = client
            .post(format!("{base}/api/v1/sign-in"))
            .header("x-forwarded-for", forwarded)
            .json(&attempt(&format!("nobody-{n}"), "guess"))
            .send()
            .await
            .expect("the relay answers");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "guess {n} is refused");
    }
}

/// A right sign-in of tech.a with `X-Forwarded-For: forwarded`: its status.
async fn sign_in_from(base: &str, forwarded: &str) -> StatusCode {
    reqwest::Client::new()
        .post(format!("{base}/api/v1/sign-in"))
        .header("x-forwarded-for", forwarded)
        .json(&attempt("tech.a", PASSWORD))
        .send()
        .await
        .expect("the relay answers")
        .status()
}

#[tokio::test]
async fn x_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    common::seed(&relay);
    let base = relay.url();
    guess_from(&base, "198.51.100.7").await;
    assert_eq!(
        sign_in_from(&base, "198.51.100.8").await,
        StatusCode::TOO_MANY_REQUESTS,
        "the peer (127.0.0.1) is locked whatever address it claims to forward for"
    );
    relay.stop().await;
}

#[tokio::test]
async fn x_forwarded_for_from_a_trusted_proxy_names_the_throttled_client() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..Config::for_database(onsite_testkit::backend::database(dir.path()))
    };
    let relay = start_relay_with(config).await;
    common::seed(&relay);
    let base = relay.url();
    // The client wrote an address of its own on the left; the proxy appended the real one.
    guess_from(&base, "203.0.113.1, 198.51.100.7").await;
    assert_eq!(
        sign_in_from(&base, "198.51.100.7").await,
        StatusCode::TOO_MANY_REQUESTS,
        "the guessing client's address is locked"
    );
    assert_eq!(
        sign_in_from(&base, "203.0.113.1").await,
        StatusCode::OK,
        "the address it wrote itself was not counted"
    );
    assert_eq!(
        sign_in_from(&base, "198.51.100.8").await,
        StatusCode::OK,
        "another client behind the same proxy signs in"
    );
    relay.stop().await;
}

// The same behaviour on PostgreSQL.
onsite_testkit::on_postgres!(
    guessing_a_password_is_throttled_with_retry_after_until_an_admin_lifts_it,
    an_oversized_sign_in_is_refused_before_any_password_is_checked,
    a_burst_of_sign_ins_waits_for_a_turn_and_those_that_wait_too_long_are_told_busy,
    every_error_answer_carries_a_json_error_body,
    a_refresh_exchanges_a_live_token_for_a_fresh_one_and_the_old_one_stops_working,
    x_forwarded_for_from_an_untrusted_peer_is_ignored,
    x_forwarded_for_from_a_trusted_proxy_names_the_throttled_client,
);
