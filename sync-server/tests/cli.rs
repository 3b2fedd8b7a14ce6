//! The `onsite-relay` binary's account, token and seed commands against a temporary database.

use std::process::{Command, Output};

fn relay(db: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_onsite-relay"))
        .arg("--database")
        .arg(db)
        .args(args)
        .output()
        .expect("the binary runs")
}

/// A password file in `dir` (passwords never go on a command line).
fn password_file(dir: &std::path::Path, password: &str) -> String {
    let p = dir.join(format!("{password}.txt"));
    std::fs::write(&p, format!("{password}\n")).expect("write the password file");
    p.display().to_string()
}

fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "command failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn seed_user_and_token_commands_work_on_one_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("relay.sqlite3");
    let out = ok(relay(
        &db,
        &[
            "seed",
            "--password-file",
            &password_file(dir.path(), "cli-pass-1"),
            "--orders",
            "3",
        ],
    ));
    let orders = format!("{} orders", 3 + onsite_domain::seed::UPCOMING_ORDERS);
    assert!(
        out.contains(&orders),
        "the day's 3 orders and next week's are seeded: {out}"
    );
    ok(relay(
        &db,
        &[
            "user",
            "add",
            "disp2",
            "--role",
            "dispatcher",
            "--password-file",
            &password_file(dir.path(), "cli-pass-2"),
        ],
    ));
    let dup = relay(
        &db,
        &[
            "user",
            "add",
            "disp2",
            "--role",
            "dispatcher",
            "--password-file",
            &password_file(dir.path(), "cli-pass-2"),
        ],
    );
    assert!(!dup.status.success(), "adding an existing user fails");
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));
    ok(relay(&db, &["user", "disable", "tech.b"]));
    ok(relay(
        &db,
        &[
            "user",
            "reset-password",
            "tech.a",
            "--password-file",
            &password_file(dir.path(), "new-pass-1"),
        ],
    ));
    let list = ok(relay(&db, &["user", "list"]));
    for want in [
        "admin\tadmin\tactive",
        "disp2\tdispatcher\tactive",
        "tech.b\ttechnician\tdisabled",
    ] {
        assert!(list.contains(want), "'{want}' in:\n{list}");
    }
    let refused = relay(
        &db,
        &["user", "add", "x1", "--role", "admin", "--password", "p"],
    );
    assert!(
        !refused.status.success(),
        "a password on the command line is not accepted (the process list would show it)"
    );
    let unlock = ok(relay(&db, &["user", "unlock", "tech.a"]));
    assert!(unlock.contains("no failed sign-ins"), "{unlock}");
    assert!(
        !relay(&db, &["user", "unlock", "nobody"]).status.success(),
        "unlocking an unknown user fails"
    );
    let revoked = ok(relay(&db, &["token", "revoke", "tech.a"]));
    assert!(revoked.contains("revoked 0 token(s)"), "{revoked}");
    let bad = relay(&db, &["user", "disable", "nobody"]);
    assert!(!bad.status.success());
}

#[test]
fn a_bad_settings_file_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("relay.toml");
    std::fs::write(&cfg, "max_body_bytes = \"lots\"\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_onsite-relay"))
        .arg("--config")
        .arg(&cfg)
        .args(["user", "list"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("relay.toml"));
}

#[test]
fn cert_commands_print_a_stable_signed_link_and_withdraw_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("relay.sqlite3");
    ok(relay(
        &db,
        &[
            "seed",
            "--password-file",
            &password_file(dir.path(), "cli-pass-1"),
            "--orders",
            "2",
        ],
    ));
    let url = ok(relay(
        &db,
        &["cert", "url", "tech.a", "--base", "https://relay.example/"],
    ));
    assert!(
        url.starts_with("https://relay.example/verify/cert/CERT-HA-0001/"),
        "the link names the certificate on the given base: {url}"
    );
    assert_eq!(
        ok(relay(
            &db,
            &["cert", "url", "tech.a", "--base", "https://relay.example"]
        )),
        url,
        "the key is kept in the database, so the link is the same next time"
    );
    let none = relay(&db, &["cert", "url", "nobody"]);
    assert!(!none.status.success(), "no profile, no link");
    assert!(
        String::from_utf8_lossy(&none.stderr).contains("no profile"),
        "says why"
    );
    let out = ok(relay(&db, &["cert", "withdraw", "tech.a"]));
    assert!(out.contains("withdrew"), "{out}");
    let again = ok(relay(&db, &["cert", "withdraw", "tech.a"]));
    assert!(
        again.contains("already withdrawn"),
        "a second withdrawal changes nothing: {again}"
    );
}
