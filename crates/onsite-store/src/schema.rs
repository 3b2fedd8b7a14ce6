//! The SQLite schema as an append-only list of migrations. A migration that has shipped is never
//! edited: change the schema by appending a new `M::up`. Index tables are derived data; when a
//! migration changes them, bump [`INDEX_VERSION`] and `Store::open` rebuilds them from the
//! documents.

use rusqlite_migration::{M, Migrations};

/// Version of the index-table contents. Bump it when the way rows are derived changes.
pub const INDEX_VERSION: i64 = 3;

const MIGRATIONS: &[M<'static>] = &[
    M::up(
        r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE kv (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

-- One row per Automerge document: a snapshot plus counters. The document is the snapshot with
-- every row of doc_changes for it applied in seq order. Index tables key list entries by position
-- (pos), not by entry id: after a merge two entries may share an id and both must count.
CREATE TABLE docs (
    doc_id        TEXT PRIMARY KEY,
    snapshot      BLOB NOT NULL,
    change_rows   INTEGER NOT NULL DEFAULT 0,
    next_seq      INTEGER NOT NULL DEFAULT 0,
    local_changes INTEGER NOT NULL DEFAULT 0,
    synced_heads  TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE doc_changes (
    doc_id TEXT NOT NULL REFERENCES docs(doc_id) ON DELETE CASCADE,
    seq    INTEGER NOT NULL,
    bytes  BLOB NOT NULL,
    PRIMARY KEY (doc_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE sync_states (
    doc_id TEXT PRIMARY KEY,
    state  BLOB NOT NULL
) STRICT;

CREATE TABLE attachments (
    sha256 TEXT PRIMARY KEY,
    mime   TEXT NOT NULL,
    size   INTEGER NOT NULL,
    bytes  BLOB NOT NULL,
    synced INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX attachments_unsynced ON attachments(sha256) WHERE synced = 0;

CREATE TABLE idx_orders (
    order_id          TEXT PRIMARY KEY,
    order_no          TEXT NOT NULL,
    assignee          TEXT,
    customer_name     TEXT NOT NULL,
    customer_phone    TEXT NOT NULL,
    customer_address  TEXT NOT NULL,
    household_id      TEXT NOT NULL,
    tier              TEXT NOT NULL,
    service_type      TEXT NOT NULL,
    problem           TEXT NOT NULL,
    created_at_ms     INTEGER NOT NULL,
    schedule_start_ms INTEGER,
    schedule_end_ms   INTEGER,
    respond_by_ms     INTEGER NOT NULL,
    arrive_by_ms      INTEGER NOT NULL,
    complete_by_ms    INTEGER NOT NULL,
    dispatch_status   TEXT NOT NULL,
    effective_status  TEXT NOT NULL,
    conflict_count    INTEGER NOT NULL,
    conflicts         TEXT NOT NULL
) STRICT;
CREATE INDEX idx_orders_by_assignee ON idx_orders(assignee, schedule_start_ms, complete_by_ms);
CREATE INDEX idx_orders_by_status ON idx_orders(effective_status, schedule_start_ms);
CREATE INDEX idx_orders_by_household ON idx_orders(household_id, created_at_ms);

CREATE TABLE idx_visits (
    order_id          TEXT NOT NULL,
    technician_id     TEXT NOT NULL,
    stage             TEXT,
    signed_at_ms      INTEGER,
    record_hash       TEXT,
    verification      TEXT NOT NULL,
    modified_sections TEXT NOT NULL,
    PRIMARY KEY (order_id, technician_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX idx_visits_by_technician ON idx_visits(technician_id);

CREATE TABLE idx_events (
    order_id      TEXT NOT NULL,
    technician_id TEXT NOT NULL,
    pos           INTEGER NOT NULL,
    event_id      TEXT NOT NULL,
    kind          TEXT NOT NULL,
    at_ms         INTEGER NOT NULL,
    PRIMARY KEY (order_id, technician_id, pos)
) STRICT, WITHOUT ROWID;

CREATE TABLE idx_visit_parts (
    order_id      TEXT NOT NULL,
    technician_id TEXT NOT NULL,
    pos           INTEGER NOT NULL,
    part_id       TEXT NOT NULL,
    part_no       TEXT NOT NULL,
    qty           INTEGER NOT NULL,
    source        TEXT NOT NULL,
    PRIMARY KEY (order_id, technician_id, pos)
) STRICT, WITHOUT ROWID;
CREATE INDEX idx_visit_parts_by_technician ON idx_visit_parts(technician_id, source);

CREATE TABLE idx_ledger (
    technician_id TEXT NOT NULL,
    pos           INTEGER NOT NULL,
    entry_id      TEXT NOT NULL,
    part_no       TEXT NOT NULL,
    kind          TEXT NOT NULL,
    delta         INTEGER NOT NULL,
    at_ms         INTEGER NOT NULL,
    PRIMARY KEY (technician_id, pos)
) STRICT, WITHOUT ROWID;
"#,
    ),
    // Drafts of typed text (notes, readings, N/A reasons) not yet committed as visit edits; per
    // device, never synced (see `drafts.rs`).
    M::up(
        r#"
CREATE TABLE drafts (
    order_id    TEXT NOT NULL,
    field       TEXT NOT NULL,
    template_id TEXT NOT NULL DEFAULT '',
    item_id     TEXT NOT NULL DEFAULT '',
    text        TEXT NOT NULL,
    saved_at_ms INTEGER NOT NULL,
    PRIMARY KEY (order_id, field, template_id, item_id)
) STRICT, WITHOUT ROWID;
"#,
    ),
    // registry: the customer registry (one row per household, one per phone number, normalised)
    // for the dispatcher's offline search, and the external references of imported orders (not
    // unique: two dispatchers may import the same row offline; both orders must be indexed).
    M::up(
        r#"
CREATE TABLE idx_households (
    household_id  TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    address       TEXT NOT NULL,
    tier          TEXT NOT NULL,
    appliances    INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE idx_household_phones (
    household_id TEXT NOT NULL,
    pos          INTEGER NOT NULL,
    phone        TEXT NOT NULL,
    PRIMARY KEY (household_id, pos)
) STRICT, WITHOUT ROWID;
CREATE INDEX idx_household_phones_by_phone ON idx_household_phones(phone);

CREATE TABLE idx_order_refs (
    external_ref TEXT NOT NULL,
    order_id     TEXT NOT NULL,
    PRIMARY KEY (external_ref, order_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX idx_order_refs_by_order ON idx_order_refs(order_id);
"#,
    ),
    // The relay's refusals of this device's changes (see `rejections.rs`): per document, with
    // the heads it was refused at, so it is not sent again until it changes.
    M::up(
        r#"
CREATE TABLE refusals (
    doc_id  TEXT PRIMARY KEY,
    code    TEXT NOT NULL,
    message TEXT NOT NULL,
    heads   TEXT NOT NULL,
    at_ms   INTEGER NOT NULL
) STRICT;
"#,
    ),
    // Partial replicas (issue 14, `eviction.rs`): each order's job as the history window sees it
    // (`onsite_domain::retention`; filled by the index rebuild, INDEX_VERSION 3), and the jobs
    // fetched from the relay's history, kept until a time.
    M::up(
        r#"
ALTER TABLE idx_orders ADD COLUMN settled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE idx_orders ADD COLUMN last_activity_ms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX idx_orders_history ON idx_orders(settled, last_activity_ms);
CREATE TABLE held_jobs (
    order_id TEXT PRIMARY KEY,
    until_ms INTEGER NOT NULL
) STRICT;
"#,
    ),
    // The documents with unsynced local changes, asked for on every sync round
    // (`Store::pending_docs`, `pending_count`): without this, each ask read the whole `docs`
    // table, snapshots included — at 10,000 documents 7 % of a first sync's CPU.
    M::up(
        r#"
CREATE INDEX docs_pending ON docs(doc_id, local_changes) WHERE local_changes > 0;
"#,
    ),
];

/// The migrations, oldest first.
pub fn migrations() -> Migrations<'static> {
    Migrations::from_slice(MIGRATIONS)
}

/// Number of migrations this build knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        super::migrations()
            .validate()
            .expect("every migration must apply cleanly to an empty database");
    }
}
