//! Sign-in timing: does the answer's time tell an attacker whether an account exists?
//! Times `accounts::sign_in` on a real SQLite relay database for unknown user ids and for known
//! users with a wrong password (one attempt per account, so throttling never answers first), and
//! prints the medians and their ratio. Rerun: `cargo bench -p onsite-relay --bench sign_in`.

use std::time::Instant;

use onsite_relay::SqliteStorage;
use onsite_relay::accounts::{self, AuthError};
use onsite_wire::Role;

const ATTEMPTS: usize = 20;

fn median_ms(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn time_refusal(s: &SqliteStorage, user: &str) -> f64 {
    let t = Instant::now();
    let r = accounts::sign_in(s, user, "not-the-password", "bench", 1_000, 1_000, None);
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    assert!(
        matches!(r, Err(AuthError::BadCredentials)),
        "{user}: refused as bad credentials, not throttled: {r:?}"
    );
    ms
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = SqliteStorage::open(&dir.path().join("relay.sqlite3")).expect("relay database");
    for i in 0..ATTEMPTS {
        accounts::add_user(
            &s,
            &format!("user-{i}"),
            "bench",
            Role::Technician,
            "right-password",
            0,
        )
        .expect("add user");
    }
    // The first check of an unknown user also computes the dummy hash once: not timed.
    time_refusal(&s, "warm-up");
    let unknown: Vec<f64> = (0..ATTEMPTS)
        .map(|i| time_refusal(&s, &format!("nobody-{i}")))
        .collect();
    let wrong: Vec<f64> = (0..ATTEMPTS)
        .map(|i| time_refusal(&s, &format!("user-{i}")))
        .collect();
    let (u, w) = (median_ms(unknown), median_ms(wrong));
    println!("sign-in refusal, median of {ATTEMPTS}:");
    println!("  unknown user id          {u:8.2} ms");
    println!("  known user, bad password {w:8.2} ms");
    println!(
        "  ratio unknown / wrong    {:8.2} (1.00 = indistinguishable)",
        u / w
    );
}
