//! The PostgreSQL schema: append-only migrations, each applied once and recorded in
//! `schema_migrations`. Instances starting at once on a fresh database take turns (an advisory
//! lock held by the migrating transaction).

use postgres::Client;

use crate::storage::StorageError;

/// Append-only: never edit an entry, add a new one. The same tables as SQLite's migrations, plus
/// `feed_head`, the one row that numbers the changes feed (see the module docs of
/// [`crate::postgres`]). `doc_id` and `record_id` compare bytewise (`COLLATE "C"`) so key ranges
/// and orderings match SQLite's whatever the database's locale.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE users(
    user_id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT false,
    created_at_ms BIGINT NOT NULL
);
CREATE TABLE tokens(
    token_sha256 TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(user_id),
    device_id TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    revoked_at_ms BIGINT
);
CREATE INDEX tokens_by_user ON tokens(user_id, device_id);
CREATE TABLE docs(
    doc_id TEXT COLLATE "C" PRIMARY KEY,
    bytes BYTEA NOT NULL,
    heads BYTEA NOT NULL,
    size BIGINT NOT NULL,
    order_no TEXT,
    assignee TEXT,
    assignees_ever TEXT,
    updated_seq BIGINT NOT NULL,
    record_hash TEXT
);
CREATE INDEX docs_by_order_no ON docs(order_no);
CREATE INDEX docs_by_record_hash ON docs(record_hash);
CREATE TABLE feed_head(
    one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),
    seq BIGINT NOT NULL
);
INSERT INTO feed_head(one, seq) VALUES (true, 0);
CREATE TABLE changes(
    seq BIGINT PRIMARY KEY,
    doc_id TEXT COLLATE "C" NOT NULL,
    hash BYTEA NOT NULL,
    bytes BYTEA NOT NULL,
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    UNIQUE(doc_id, hash)
);
CREATE INDEX changes_by_doc ON changes(doc_id, seq);
CREATE TABLE feed(
    reader TEXT NOT NULL,
    seq BIGINT NOT NULL,
    doc_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY(reader, seq)
);
CREATE TABLE access_events(
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seq BIGINT NOT NULL,
    user_id TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    granted BOOLEAN NOT NULL
);
CREATE INDEX access_by_user ON access_events(user_id, seq, id);
CREATE TABLE attachments(
    sha256 TEXT PRIMARY KEY,
    mime TEXT NOT NULL,
    bytes BYTEA NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE TABLE attachment_uploaders(
    sha256 TEXT NOT NULL REFERENCES attachments(sha256),
    user_id TEXT NOT NULL,
    PRIMARY KEY(sha256, user_id)
);
CREATE TABLE order_prefixes(
    device_id TEXT PRIMARY KEY,
    prefix TEXT NOT NULL UNIQUE,
    created_at_ms BIGINT NOT NULL
);
CREATE TABLE relay_keys(
    name TEXT PRIMARY KEY,
    key BYTEA NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE TABLE sign_in_attempts(
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_ms BIGINT NOT NULL,
    locked_until_ms BIGINT NOT NULL
);
CREATE TABLE api_tokens(
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    revoked_at_ms BIGINT
);
CREATE TABLE order_facts(
    order_id TEXT PRIMARY KEY,
    facts TEXT NOT NULL
);
CREATE TABLE export_records(
    record_id TEXT COLLATE "C" PRIMARY KEY,
    seq BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX export_records_by_seq ON export_records(seq, record_id);
CREATE TABLE webhooks(
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url TEXT NOT NULL,
    secret BYTEA NOT NULL,
    created_at_ms BIGINT NOT NULL,
    removed_at_ms BIGINT
);
CREATE TABLE outbox_events(
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    unique_key TEXT UNIQUE,
    kind TEXT NOT NULL,
    ordering_key TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE TABLE deliveries(
    event BIGINT NOT NULL REFERENCES outbox_events(id),
    destination TEXT NOT NULL,
    ordering_key TEXT NOT NULL,
    state TEXT NOT NULL,
    in_flight BOOLEAN NOT NULL DEFAULT false,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT NOT NULL,
    PRIMARY KEY(event, destination)
);
CREATE INDEX deliveries_due ON deliveries(state, next_attempt_ms);
CREATE INDEX deliveries_in_order ON deliveries(destination, ordering_key, state, event);
CREATE TABLE delivery_attempts(
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event BIGINT NOT NULL,
    destination TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    started_at_ms BIGINT NOT NULL,
    finished_at_ms BIGINT,
    outcome TEXT NOT NULL,
    http_status INTEGER,
    error TEXT,
    UNIQUE(event, destination, attempt),
    FOREIGN KEY(event, destination) REFERENCES deliveries(event, destination)
);
"#,
    // Tenancy (issue 14): service centres; every user and every document but the company-wide
    // reference documents belongs to one. What was stored before belongs to the default centre,
    // and every stored change is listed in its centre's dispatchers' feed (`relay::centre_key`).
    r#"
CREATE TABLE centres(
    centre_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
INSERT INTO centres(centre_id, name, created_at_ms) VALUES ('main', 'Service centre', 0);
ALTER TABLE users ADD COLUMN centre TEXT NOT NULL DEFAULT 'main' REFERENCES centres(centre_id);
ALTER TABLE docs ADD COLUMN centre TEXT;
UPDATE docs SET centre = 'main' WHERE doc_id NOT LIKE 'ref:%';
INSERT INTO feed(reader, seq, doc_id)
    SELECT CASE WHEN doc_id LIKE 'ref:%' THEN '@*' ELSE '@main' END, seq, doc_id FROM changes
    ON CONFLICT DO NOTHING;
"#,
    // Partial replicas (issue 14): one row per order with what the history window and the history
    // search need (`crate::history`), filled from the stored orders when it runs.
    r#"
CREATE TABLE jobs(
    order_id TEXT COLLATE "C" PRIMARY KEY,
    centre TEXT,
    settled BOOLEAN NOT NULL,
    last_activity_ms BIGINT NOT NULL,
    order_no TEXT NOT NULL,
    customer_name TEXT NOT NULL,
    phone TEXT NOT NULL,
    household_id TEXT NOT NULL
);
CREATE INDEX jobs_by_household ON jobs(household_id, last_activity_ms);
CREATE INDEX jobs_by_phone ON jobs(phone);
CREATE INDEX jobs_by_order_no ON jobs(order_no);
"#,
    // Maintenance reminders at scale (issue 14): which households the reminders task must look at
    // and when (`crate::reminders`); every stored household is looked at once when it runs.
    r#"
CREATE TABLE reminder_checks(
    household_id TEXT COLLATE "C" PRIMARY KEY,
    check_at_ms BIGINT,
    generation BIGINT NOT NULL
);
CREATE INDEX reminder_checks_due ON reminder_checks(check_at_ms);
INSERT INTO reminder_checks(household_id, check_at_ms, generation)
    SELECT substr(doc_id, 11), 0, 1 FROM docs WHERE doc_id LIKE 'household:%';
"#,
];

/// The migration that added the job index: the orders stored before it are indexed when it runs.
const JOBS_MIGRATION: i32 = 3;

/// The advisory lock key the migrating transaction holds ("onsite" in ASCII).
const MIGRATION_LOCK: i64 = 0x6f6e_7369_7465;

/// Apply every migration not yet recorded, in one transaction.
pub(super) fn run(client: &mut Client) -> Result<(), StorageError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations(
             version INTEGER PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )?;
    let done: i32 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )?
        .get(0);
    for (i, m) in MIGRATIONS.iter().enumerate().skip(done as usize) {
        tx.batch_execute(m)?;
        let version = i as i32 + 1;
        tx.execute(
            "INSERT INTO schema_migrations(version) VALUES ($1)",
            &[&version],
        )?;
        if version == JOBS_MIGRATION {
            super::jobs::backfill(&mut tx)?;
        }
    }
    tx.commit()?;
    Ok(())
}
