//! `GET /api/v1/export/records?since=<cursor>&limit=<n>[&format=csv]`: the completed and signed
//! records for an ERP/CRM, as JSON lines or CSV, for an admin's session or an API token with the
//! `export` scope ([`crate::tokens`]).
//!
//! Paging: every record snapshot is stamped, at commit, with the sequence number of the commit
//! that last changed what it says (`export_records.seq`, kept by the storage from
//! [`crate::outward`]); a page is the records after the cursor in (seq, record id) order, and the
//! cursor is the position of its last record. A record added while a client pages gets a newer
//! seq than any cursor already given out, so it comes on a later page, never skipped; a record
//! that changes moves to its new seq, so it comes once more with what it says now, and a commit
//! that changes nothing a record says (a dispatcher's note) does not move it, so nothing is
//! repeated. Sequence numbers only grow, under the storage's one writer.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use onsite_domain::export::{csv_text, local_date_time, money_text};
use onsite_domain::{Code, HOUR};
use onsite_wire::back_office::{
    EXPORT_DEFAULT_LIMIT, EXPORT_MAX_LIMIT, ExportedRecord, MORE_HEADER, NEXT_CURSOR_HEADER,
    RecordState,
};
use serde::Deserialize;

use crate::api::{ApiError, AppState, blocking};
use crate::storage::StorageError;
use crate::tokens::{self, Scope};

/// China Standard Time, the centre's local time for the CSV's date column (as the verify page).
const UTC_OFFSET_MS: i64 = 8 * HOUR;

/// A place in the export: just after the record `record_id` stamped `seq`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub seq: u64,
    pub record_id: String,
}

/// One stored record snapshot at its position (`body` is its [`ExportedRecord`] JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamped {
    pub at: Position,
    pub body: String,
}

/// Where the record snapshots are kept.
pub trait RecordExport {
    /// Up to `limit` snapshots after `after` (from the start when `None`), in position order.
    fn exported_records(
        &self,
        after: Option<&Position>,
        limit: usize,
    ) -> Result<Vec<Stamped>, StorageError>;
}

/// The opaque text of a cursor.
pub fn encode_cursor(p: &Position) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("r1.{}.{}", p.seq, p.record_id))
}

/// The position a cursor names; `None` when it is not one this relay's [`encode_cursor`] made.
pub fn decode_cursor(text: &str) -> Option<Position> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let rest = raw.strip_prefix("r1.")?;
    let (seq, record_id) = rest.split_once('.')?;
    if !seq.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Position {
        seq: seq.parse().ok()?,
        record_id: record_id.to_owned(),
    })
}

/// The query string.
#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    since: Option<String>,
    limit: Option<String>,
    format: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    JsonLines,
    Csv,
}

/// The checked request: where to start, how many, which format.
struct Ask {
    after: Option<Position>,
    limit: u32,
    format: Format,
}

fn bad(code: Code, message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

fn check(q: ExportQuery, head: u64) -> Result<Ask, ApiError> {
    let limit = match q.limit.as_deref() {
        None => EXPORT_DEFAULT_LIMIT,
        Some(t) => t
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=EXPORT_MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                bad(
                    Code::ExportBadLimit,
                    format!("limit '{t}' must be a whole number from 1 to {EXPORT_MAX_LIMIT}"),
                )
            })?,
    };
    let format = match q.format.as_deref() {
        None | Some("jsonl") => Format::JsonLines,
        Some("csv") => Format::Csv,
        Some(other) => {
            return Err(bad(
                Code::ExportBadFormat,
                format!("format '{other}' is neither 'jsonl' nor 'csv'"),
            ));
        }
    };
    let after = match q.since.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(
            decode_cursor(text)
                .filter(|p| p.seq <= head)
                .ok_or_else(|| {
                    bad(
                        Code::ExportBadCursor,
                        "since is not a cursor this relay gave out; start again without it".into(),
                    )
                })?,
        ),
    };
    Ok(Ask {
        after,
        limit,
        format,
    })
}

/// The route handler.
pub async fn records(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let caller = tokens::require(&st, &headers, Scope::Export).await?;
    let storage = st.storage().clone();
    let head = blocking({
        let storage = storage.clone();
        move || storage.head_seq()
    })
    .await??;
    let ask = check(q, head)?;
    let (after, limit) = (ask.after.clone(), ask.limit as usize);
    let mut rows = blocking(move || storage.exported_records(after.as_ref(), limit + 1)).await??;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = rows
        .last()
        .map(|r| r.at.clone())
        .or(ask.after)
        .unwrap_or(Position {
            seq: 0,
            record_id: String::new(),
        });
    tracing::info!(?caller, records = rows.len(), more, "export");
    let (content_type, body) = match ask.format {
        Format::JsonLines => ("application/x-ndjson", json_lines(&rows)),
        Format::Csv => ("text/csv; charset=utf-8", csv_table(&rows)?),
    };
    let mut r = (StatusCode::OK, Body::from(body)).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        NEXT_CURSOR_HEADER,
        HeaderValue::from_str(&encode_cursor(&next)).expect("base64 is a header value"),
    );
    h.insert(
        MORE_HEADER,
        HeaderValue::from_static(if more { "true" } else { "false" }),
    );
    Ok(r)
}

/// One `{"cursor": …, "record": …}` line per record.
fn json_lines(rows: &[Stamped]) -> Vec<u8> {
    let mut out = String::new();
    for r in rows {
        let cursor = serde_json::to_string(&encode_cursor(&r.at)).expect("a string serialises");
        out.push_str(&format!("{{\"cursor\":{cursor},\"record\":{}}}\n", r.body));
    }
    out.into_bytes()
}

const CSV_HEADERS: [&str; 23] = [
    "cursor",
    "record_id",
    "order_no",
    "order_id",
    "technician_id",
    "state",
    "record_hash",
    "signed_at",
    "signed_at_ms",
    "signer_name",
    "technician_name",
    "certificate_id",
    "customer_name",
    "address",
    "service_type",
    "appliance_category",
    "appliance_brand",
    "appliance_model",
    "appliance_serial",
    "diagnosis",
    "work_performed",
    "stars",
    "total",
];

fn state_text(s: RecordState) -> &'static str {
    match s {
        RecordState::Valid => "valid",
        RecordState::ModifiedAfterSigning => "modified_after_signing",
        RecordState::Reopened => "reopened",
    }
}

/// One CSV row: typed text neutralised against formulas (`onsite_domain::export::csv_text`).
fn csv_row(cursor: String, r: &ExportedRecord) -> Vec<String> {
    let a = r.appliance.as_ref();
    let text = |s: &str| csv_text(s);
    vec![
        cursor,
        text(&r.record_id),
        text(&r.order_no),
        text(&r.order_id),
        text(&r.technician_id),
        state_text(r.state).to_owned(),
        r.record_hash.clone(),
        local_date_time(r.signed_at_ms, UTC_OFFSET_MS),
        r.signed_at_ms.to_string(),
        text(&r.signer_name),
        text(&r.technician_name),
        text(&r.certificate_id),
        text(&r.customer_name),
        text(&r.address),
        r.service_type.clone(),
        a.map(|a| text(&a.category)).unwrap_or_default(),
        a.map(|a| text(&a.brand)).unwrap_or_default(),
        a.map(|a| text(&a.model)).unwrap_or_default(),
        a.map(|a| text(&a.serial)).unwrap_or_default(),
        text(&r.diagnosis),
        text(&r.work_performed),
        r.stars.map(|s| s.to_string()).unwrap_or_default(),
        money_text(r.total_cents),
    ]
}

/// The records as CSV: UTF-8 with a BOM (so Excel reads Chinese text), a header row.
fn csv_table(rows: &[Stamped]) -> Result<Vec<u8>, ApiError> {
    let broken = |what: String| {
        tracing::error!(error = %what, "export: a stored record does not read");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            Code::RelayInternal,
            "a stored record could not be exported; try again later",
        )
    };
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(CSV_HEADERS)
        .map_err(|e| broken(e.to_string()))?;
    for row in rows {
        let r: ExportedRecord =
            serde_json::from_str(&row.body).map_err(|e| broken(e.to_string()))?;
        w.write_record(csv_row(encode_cursor(&row.at), &r))
            .map_err(|e| broken(e.to_string()))?;
    }
    w.into_inner().map_err(|e| broken(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_anything_else_is_refused() {
        let p = Position {
            seq: 42,
            record_id: "visit:o-1:tech.a".into(),
        };
        assert_eq!(
            decode_cursor(&encode_cursor(&p)),
            Some(p),
            "a cursor names the position it was made from"
        );
        for bad in [
            "",
            "xyz",
            "cjEuLg",
            "!!",
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("r1.-3.x"),
        ] {
            assert_eq!(decode_cursor(bad), None, "'{bad}' is not a cursor");
        }
    }

    #[test]
    fn limit_and_format_are_checked_with_their_own_codes() {
        let q = |limit: Option<&str>, format: Option<&str>, since: Option<&str>| ExportQuery {
            limit: limit.map(str::to_owned),
            format: format.map(str::to_owned),
            since: since.map(str::to_owned),
        };
        let code = |q: ExportQuery| check(q, 10).err().map(|e| e.body.code);
        assert_eq!(
            code(q(Some("0"), None, None)),
            Some(Code::ExportBadLimit),
            "0 is too few"
        );
        assert_eq!(
            code(q(Some("1001"), None, None)),
            Some(Code::ExportBadLimit),
            "over 1000"
        );
        assert_eq!(
            code(q(Some("ten"), None, None)),
            Some(Code::ExportBadLimit),
            "not a number"
        );
        assert_eq!(
            code(q(None, Some("xlsx"), None)),
            Some(Code::ExportBadFormat),
            "xlsx"
        );
        assert_eq!(
            code(q(None, None, Some("zz"))),
            Some(Code::ExportBadCursor),
            "garbage"
        );
        let ahead = encode_cursor(&Position {
            seq: 11,
            record_id: "visit:o-1:t".into(),
        });
        assert_eq!(
            code(q(None, None, Some(&ahead))),
            Some(Code::ExportBadCursor),
            "a cursor beyond the feed's head was not given out by this relay"
        );
        let ok = check(q(Some("1000"), Some("csv"), None), 10).expect("a good request");
        assert_eq!((ok.limit, ok.format, ok.after), (1000, Format::Csv, None));
    }

    #[test]
    fn csv_neutralises_typed_formulas_and_starts_with_a_bom() {
        let r = ExportedRecord {
            record_id: "visit:o-1:tech.a".into(),
            order_id: "o-1".into(),
            order_no: "WO-1".into(),
            technician_id: "tech.a".into(),
            state: RecordState::Valid,
            record_hash: "ab".into(),
            signed_at_ms: 0,
            signer_name: "=HYPERLINK(\"x\")".into(),
            technician_name: "张三".into(),
            certificate_id: "C".into(),
            customer_name: "@SUM(A1)".into(),
            address: "北京".into(),
            service_type: "repair".into(),
            appliance: None,
            diagnosis: "-1".into(),
            work_performed: "+1".into(),
            stars: Some(5),
            total_cents: -1234,
            sections: Default::default(),
        };
        let rows = [Stamped {
            at: Position {
                seq: 1,
                record_id: r.record_id.clone(),
            },
            body: serde_json::to_string(&r).unwrap(),
        }];
        let bytes = csv_table(&rows).expect("the table is written");
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM for Excel");
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let row = reader.records().next().unwrap().unwrap();
        let col = |name: &str| row[CSV_HEADERS.iter().position(|h| *h == name).unwrap()].to_owned();
        assert_eq!(
            col("signer_name"),
            "'=HYPERLINK(\"x\")",
            "a formula is neutralised"
        );
        assert_eq!(col("customer_name"), "'@SUM(A1)", "@ is neutralised");
        assert_eq!(
            col("diagnosis"),
            "'-1",
            "typed text starting with - is neutralised"
        );
        assert_eq!(col("total"), "-12.34", "money stays a number");
        assert_eq!(col("signed_at"), "1970-01-01 08:00", "local (UTC+8) time");
        assert_eq!(col("technician_name"), "张三", "Chinese text as is");
    }
}
