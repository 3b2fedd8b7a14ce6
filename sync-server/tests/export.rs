//! The records export `GET /api/v1/export/records` against a real relay on 127.0.0.1: who may
//! call it, paging while records are added and changed, CSV, bad input.

mod common;

use std::collections::BTreeMap;

use common::*;
use onsite_domain::order::DispatchStatus;
use onsite_domain::{DocId, HOUR};
use onsite_relay::tokens::{self, Scope};
use onsite_wire::back_office::{ExportLine, MORE_HEADER, NEXT_CURSOR_HEADER, RecordState};
use onsite_wire::{Code, ErrorBody};
use reqwest::StatusCode;

/// One page: the lines, the next cursor and whether more wait.
struct Page {
    lines: Vec<ExportLine>,
    next: String,
    more: bool,
}

async fn get(base: &str, token: &str, query: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{base}/api/v1/export/records?{query}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("the relay answers")
}

async fn page(base: &str, token: &str, since: &str, limit: u32) -> Page {
    let r = get(base, token, &format!("since={since}&limit={limit}")).await;
    assert_eq!(r.status(), StatusCode::OK, "an allowed export answers 200");
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("the answer carries {name}"))
            .to_owned()
    };
    let (next, more) = (header(NEXT_CURSOR_HEADER), header(MORE_HEADER) == "true");
    let text = r.text().await.unwrap();
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is an ExportLine"))
        .collect();
    Page { lines, next, more }
}

async fn refused(base: &str, token: &str, query: &str) -> (StatusCode, Code) {
    let r = get(base, token, query).await;
    let status = r.status();
    let body: ErrorBody = r.json().await.expect("a refusal carries an ErrorBody");
    (status, body.code)
}

#[tokio::test]
async fn only_admins_and_export_tokens_may_export_and_a_revoked_token_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    seed(&relay);
    let url = relay.url();
    let (token, record) = tokens::create(relay.storage.as_ref(), "erp", &[Scope::Export], DAY)
        .expect("an export token is created");
    assert_ne!(record.token_sha256, token, "only the hash is stored");
    let admin = sign_in(&url, "admin", "dev-admin").await;
    let tech = sign_in(&url, "tech.a", "dev-tech").await;
    let disp = sign_in(&url, "disp", "dev-disp").await;

    assert_eq!(
        get(&url, &token, "").await.status(),
        StatusCode::OK,
        "the export token may"
    );
    assert_eq!(
        get(&url, &admin.token, "").await.status(),
        StatusCode::OK,
        "an admin may"
    );
    for (who, t) in [("a technician", &tech.token), ("a dispatcher", &disp.token)] {
        assert_eq!(
            refused(&url, t, "").await,
            (StatusCode::FORBIDDEN, Code::ExportForbidden),
            "{who} may not export"
        );
    }
    assert_eq!(
        refused(&url, "", "").await.1,
        Code::AuthMissingToken,
        "no token, no export"
    );
    assert!(relay.storage.revoke_api_token(&record.id, DAY).unwrap());
    assert_eq!(
        refused(&url, &token, "").await,
        (StatusCode::UNAUTHORIZED, Code::AuthTokenRevoked),
        "a revoked token is refused"
    );
    assert_eq!(
        refused(&url, "onx_made-up", "").await,
        (StatusCode::UNAUTHORIZED, Code::AuthInvalidToken),
        "an unknown API token is refused"
    );
    for (query, code) in [
        ("limit=0", Code::ExportBadLimit),
        ("limit=5000", Code::ExportBadLimit),
        ("format=xml", Code::ExportBadFormat),
        ("since=not-a-cursor", Code::ExportBadCursor),
    ] {
        assert_eq!(
            refused(&url, &admin.token, query).await,
            (StatusCode::BAD_REQUEST, code),
            "{query} is refused with its code"
        );
    }
    relay.stop().await;
}

#[tokio::test]
async fn paging_while_records_are_added_and_changed_skips_and_repeats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    let seeded = seed(&relay);
    let url = relay.url();
    let (token, _) = tokens::create(relay.storage.as_ref(), "erp", &[Scope::Export], DAY).unwrap();
    let past = seeded.past_orders.len();
    assert!(past >= 2, "the seed has completed past orders to export");

    let mut seen: BTreeMap<String, Vec<ExportLine>> = BTreeMap::new();
    let first = page(&url, &token, "", 1).await;
    assert!(first.more, "one record per page leaves more");
    for l in first.lines {
        seen.entry(l.record.record_id.clone()).or_default().push(l);
    }

    // While the client pages: a technician completes two new jobs, and a dispatcher changes
    // something no record says (a note) on every past order.
    let mut a = Device::sign_in(&url, "tech.a").await;
    a.sync().await;
    let new_a = a
        .sign_job(&DocId::Order("o-00000".into()), "tech.a", DAY + 9 * HOUR)
        .await;
    let mut disp = Device::sign_in(&url, "disp").await;
    disp.sync().await;
    for o in &seeded.past_orders {
        disp.edit_order(o, |o| o.status_reason = "checked by the back office".into())
            .await;
    }
    let mut next = first.next;
    let mut rounds = 0;
    let mut added_late = None;
    loop {
        let p = page(&url, &token, &next, 1).await;
        for l in p.lines {
            seen.entry(l.record.record_id.clone()).or_default().push(l);
        }
        next = p.next;
        rounds += 1;
        if rounds == 2 {
            // One more record after the client has passed the others.
            let mut b = Device::sign_in(&url, "tech.b").await;
            b.sync().await;
            added_late = Some(
                b.sign_job(&DocId::Order("o-00001".into()), "tech.b", DAY + 10 * HOUR)
                    .await,
            );
        }
        if !p.more && rounds > 2 {
            break;
        }
        assert!(
            rounds < past + 20,
            "paging ends: one record per page, {past} past records and a few new"
        );
    }
    let added_late = added_late.expect("the late record was added").to_string();
    assert_eq!(
        seen.len(),
        past + 2,
        "every past record, the one signed during paging and the late one: {:?}",
        seen.keys().collect::<Vec<_>>()
    );
    for (id, lines) in &seen {
        assert_eq!(
            lines.len(),
            1,
            "{id} came exactly once (a note on its order changes nothing it says)"
        );
        assert_eq!(lines[0].record.state, RecordState::Valid, "{id} verifies");
    }
    assert!(seen.contains_key(&new_a.to_string()) && seen.contains_key(&added_late));

    // A change to what a record says brings it once more, as it is now.
    let cancelled = seeded.past_orders[0].clone();
    disp.edit_order(&cancelled, |o| {
        o.set_status(DispatchStatus::Cancelled, "duplicate", DAY + 11 * HOUR)
            .unwrap();
        o.customer.address = "changed after signing".into();
    })
    .await;
    let p = page(&url, &token, &next, 10).await;
    assert_eq!(p.lines.len(), 1, "only the changed record comes again");
    assert_eq!(
        p.lines[0].record.state,
        RecordState::ModifiedAfterSigning,
        "and says it was modified after signing"
    );
    assert!(!p.more);
    relay.stop().await;
}

#[tokio::test]
async fn csv_export_has_a_bom_a_header_and_one_row_per_record() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    let seeded = seed(&relay);
    let admin = sign_in(&relay.url(), "admin", "dev-admin").await;
    let r = get(&relay.url(), &admin.token, "format=csv").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv"),
        "CSV is labelled as such"
    );
    let bytes = r.bytes().await.unwrap();
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "UTF-8 BOM so Excel reads Chinese"
    );
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "cursor");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(
        rows.len(),
        seeded.past_orders.len(),
        "one row per signed record"
    );
    let state = headers.iter().position(|h| h == "state").unwrap();
    assert!(
        rows.iter().all(|r| &r[state] == "valid"),
        "every seeded record verifies"
    );
    relay.stop().await;
}

#[tokio::test]
async fn records_signed_before_the_export_existed_are_exported_after_the_migration() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path()).await;
    let seeded = seed(&relay);
    relay.stop().await;
    let db = dir.path().join("relay.sqlite3");
    {
        // As a database of that version: no `docs_meta` index, none of the back office's tables, version 5.
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(BEFORE_TENANCY).unwrap();
        conn.execute_batch(
            "DROP TABLE feed; DROP TABLE delivery_attempts; DROP TABLE deliveries;
             DROP TABLE outbox_events; DROP TABLE webhooks; DROP TABLE export_records;
             DROP TABLE order_facts; DROP TABLE api_tokens; PRAGMA user_version = 5;",
        )
        .unwrap();
    }
    let relay = start_relay(dir.path()).await;
    let (token, _) = tokens::create(relay.storage.as_ref(), "erp", &[Scope::Export], DAY).unwrap();
    let p = page(&relay.url(), &token, "", 100).await;
    assert_eq!(
        p.lines.len(),
        seeded.past_orders.len(),
        "the migration exports every record already signed"
    );
    let events: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT COUNT(*) FROM outbox_events WHERE unique_key IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(events, 0, "and announces none of them as new events");
    relay.stop().await;
}

// The same behaviour on PostgreSQL (the tests not listed read or write the SQLite file
// directly: migrations from older SQLite schemas, damaged rows).
onsite_testkit::on_postgres!(
    only_admins_and_export_tokens_may_export_and_a_revoked_token_is_refused,
    paging_while_records_are_added_and_changed_skips_and_repeats_nothing,
    csv_export_has_a_bom_a_header_and_one_row_per_record,
);
