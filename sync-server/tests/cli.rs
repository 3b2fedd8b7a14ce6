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
    let db = onsite_testkit::backend::database(dir.path());
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
        "admin\tadmin\tmain\tactive",
        "disp2\tdispatcher\tmain\tactive",
        "tech.b\ttechnician\tmain\tdisabled",
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
    let db = onsite_testkit::backend::database(dir.path());
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

#[test]
fn api_tokens_and_webhooks_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = onsite_testkit::backend::database(dir.path());
    let created = ok(relay(
        &db,
        &["token", "create", "--scope", "export", "--name", "erp"],
    ));
    let id = created
        .split_whitespace()
        .find(|w| w.starts_with("api:"))
        .unwrap_or_else(|| panic!("an API token id in: {created}"))
        .to_owned();
    assert!(
        created.lines().any(|l| l.starts_with("onx_")),
        "the token is printed once: {created}"
    );
    assert!(
        !relay(&db, &["token", "create", "--name", "x"])
            .status
            .success(),
        "a token needs a scope"
    );
    assert!(
        !relay(&db, &["token", "create", "--scope", "admin"])
            .status
            .success(),
        "only known scopes"
    );
    let list = ok(relay(&db, &["token", "list"]));
    assert!(
        list.contains(&format!("{id}\texport\tactive\terp")),
        "{list}"
    );
    assert!(
        !list.contains("onx_"),
        "the list never shows a token: {list}"
    );
    ok(relay(&db, &["token", "revoke", &id]));
    assert!(ok(relay(&db, &["token", "list"])).contains("revoked at"));
    assert!(
        !relay(&db, &["token", "revoke", &id]).status.success(),
        "revoking twice says there is no active token"
    );

    let secret = password_file(dir.path(), "whsec-0123456789abcdef");
    let url = "https://erp.example.com/onsite";
    let added = ok(relay(
        &db,
        &["webhook", "add", url, "--secret-file", &secret],
    ));
    assert!(added.contains("added webhook 1"), "{added}");
    let short = password_file(dir.path(), "short");
    assert!(
        !relay(&db, &["webhook", "add", url, "--secret-file", &short])
            .status
            .success(),
        "a short secret is refused"
    );
    assert!(
        !relay(
            &db,
            &[
                "webhook",
                "add",
                "erp.example.com",
                "--secret-file",
                &secret
            ]
        )
        .status
        .success(),
        "a URL without a scheme is refused"
    );
    assert!(
        !relay(
            &db,
            &["webhook", "add", url, "--secret", "whsec-0123456789abcdef"]
        )
        .status
        .success(),
        "a secret on the command line is not accepted (the process list would show it)"
    );
    let from_env = Command::new(env!("CARGO_BIN_EXE_onsite-relay"))
        .arg("--database")
        .arg(&db)
        .args(["webhook", "add", "http://127.0.0.1:9/hook"])
        .env("ONSITE_RELAY_WEBHOOK_SECRET", "whsec-from-the-environment")
        .output()
        .unwrap();
    assert!(
        ok(from_env).contains("added webhook 2"),
        "the secret may come from the environment"
    );
    ok(relay(&db, &["webhook", "remove", "1"]));
    let list = ok(relay(&db, &["webhook", "list"]));
    assert!(
        list.contains("1\tremoved at") && list.contains("2\tactive\thttp://127.0.0.1:9/hook"),
        "{list}"
    );
    assert!(
        !relay(&db, &["webhook", "remove", "1"]).status.success(),
        "removing twice fails"
    );
    assert_eq!(
        ok(relay(&db, &["webhook", "deliveries"])),
        "",
        "nothing delivered yet"
    );
}

// The same commands with `--database postgres://…`.
#[test]
fn backup_never_overwrites_and_restore_gives_a_new_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let db = onsite_testkit::backend::database(dir.path());
    let seeded = &[
        "seed",
        "--password-file",
        &password_file(dir.path(), "cli-pass-9"),
    ];
    ok(relay(&db, seeded));
    let file = dir.path().join("relay.backup");
    let file_arg = file.display().to_string();
    let out = ok(relay(&db, &["backup", "--to", &file_arg]));
    assert!(out.contains("backed up to"), "the backup says where: {out}");
    let again = relay(&db, &["backup", "--to", &file_arg]);
    assert!(
        !again.status.success()
            && String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "a second backup to the same file must refuse, not overwrite it"
    );
    // Into a new database of the same backend (SQLite: a new file; PostgreSQL: an empty one).
    let other = tempfile::tempdir().unwrap();
    let restored_db = onsite_testkit::backend::database(other.path());
    let first = ok(relay(&restored_db, &["restore", "--from", &file_arg]));
    let epoch = |out: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix("database epoch "))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("a restore prints the new epoch: {out}"))
    };
    let renewed = ok(relay(&restored_db, &["restore"]));
    assert_ne!(
        epoch(&first),
        epoch(&renewed),
        "each restore (or renewal) gives the database an epoch of its own"
    );
    let users = ok(relay(&restored_db, &["user", "list"]));
    assert!(users.contains("tech.a"), "the accounts came back: {users}");
}

onsite_testkit::on_postgres!(
    backup_never_overwrites_and_restore_gives_a_new_epoch,
    seed_user_and_token_commands_work_on_one_database_file,
    cert_commands_print_a_stable_signed_link_and_withdraw_once,
    api_tokens_and_webhooks_are_managed_from_the_command_line,
);
