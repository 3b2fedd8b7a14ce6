//! The public verification page `GET /verify/<order-number>/<hash>` printed (and QR-encoded) on
//! every signed service record. No sign-in: it says valid / not valid / unknown with the date,
//! the service type and the technician's name, and nothing about the customer. The rule is
//! `onsite_record::VerifySummary::check` (which runs `onsite_domain::record::verify`), so the
//! relay decides exactly as the device does.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use onsite_domain::order::Order;
use onsite_domain::visit::Visit;
use onsite_record::{Lang, VerifySummary, verify_page};

use crate::api::AppState;

/// China Standard Time, the company's local time for the date shown.
const UTC_OFFSET_MINUTES: i32 = 480;

/// The public routes, to merge into the API router.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/verify/{order_no}/{hash}", get(verify))
        .with_state(state)
}

/// The page language from `Accept-Language` (zh-CN when absent).
pub(crate) fn lang_of(headers: &HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_tag)
        .unwrap_or(Lang::ZhCn)
}

/// Look the record up; any failure to read it shows as "unknown", never as an error page that
/// could tell a prober more than a wrong link would.
fn summary(state: &AppState, order_no: &str, hash: &str) -> Result<VerifySummary, StatusCode> {
    let failed = |e: crate::storage::StorageError| {
        tracing::error!(error = %e, "verify: storage failed");
        StatusCode::SERVICE_UNAVAILABLE
    };
    // A number and hash no customer signed are "unknown" after one index lookup, whether or not
    // the number exists: neither the answer nor its time tells a prober which numbers are real.
    if !state
        .storage()
        .signed_record_exists(order_no, hash)
        .map_err(failed)?
    {
        return Ok(VerifySummary::unknown(UTC_OFFSET_MINUTES));
    }
    let record = state.storage().order_record(order_no).map_err(failed)?;
    let Some(record) = record else {
        return Ok(VerifySummary::unknown(UTC_OFFSET_MINUTES));
    };
    let load = |bytes: &[u8]| onsite_domain::doc::load(bytes).ok();
    let Some(order) =
        load(&record.order.bytes).and_then(|d| onsite_domain::doc::read::<Order>(&d).ok())
    else {
        return Ok(VerifySummary::unknown(UTC_OFFSET_MINUTES));
    };
    let visits: Vec<Visit> = record
        .visits
        .iter()
        .filter_map(|v| load(&v.bytes).and_then(|d| onsite_domain::doc::read::<Visit>(&d).ok()))
        .collect();
    Ok(VerifySummary::check(
        &order,
        &visits,
        hash,
        UTC_OFFSET_MINUTES,
    ))
}

async fn verify(
    State(state): State<AppState>,
    Path((order_no, hash)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&headers);
    let s = state.clone();
    let result = tokio::task::spawn_blocking(move || summary(&s, &order_no, &hash)).await;
    match result {
        Ok(Ok(summary)) => {
            let status = if matches!(summary.state, onsite_record::VerifyState::Unknown) {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::OK
            };
            (status, Html(verify_page(&summary, lang))).into_response()
        }
        Ok(Err(status)) => (
            status,
            "the relay cannot check records right now; try again later",
        )
            .into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the relay failed; try again later",
        )
            .into_response(),
    }
}
